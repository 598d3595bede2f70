import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { FalMcpError, JsonRpcCode } from "../src/errors.ts";
import { FalClient } from "../src/fal/client.ts";
import { FalApiError } from "../src/fal/errors.ts";
import { resolveFalHosts } from "../src/fal/hosts.ts";
import {
  contentTypeForPath,
  extensionForContentType,
  FalStorage,
  type FalStorageOptions,
} from "../src/fal/storage.ts";
import { resolveLocalPath, resolveMediaInput } from "../src/files/media_input.ts";
import { type FakeFal, startFakeFal } from "./fake_fal/server.ts";
import { sparseFile } from "./helpers/sparse_file.ts";

const MiB = 1024 * 1024;
const KEY = "test-key";

interface Harness {
  fake: FakeFal;
  storage: FalStorage;
  dir: string;
}

/** Starts the fake, builds a storage client for it and a temp dir; cleans all up after `fn`. */
async function withStorage(
  fn: (h: Harness) => Promise<void>,
  options: Partial<Pick<FalStorageOptions, "multipartThresholdBytes" | "partSizeBytes">> = {},
  key = KEY,
): Promise<void> {
  const fake = await startFakeFal({ keys: [KEY] });
  const dir = await Deno.makeTempDir({ prefix: "fal-mcp-storage-" });
  try {
    const hosts = resolveFalHosts(fake.url);
    const fal = new FalClient({ hosts, key, retryBaseMs: 1 });
    await fn({ fake, storage: new FalStorage({ fal, hosts, ...options }), dir });
  } finally {
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i += 65536) {
    crypto.getRandomValues(bytes.subarray(i, Math.min(length, i + 65536)));
  }
  return bytes;
}

async function download(url: string): Promise<{ bytes: Uint8Array; type: string | null }> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return { bytes: await res.bytes(), type: res.headers.get("content-type") };
}

Deno.test("uploadFile round-trips a small PNG: the file URL serves the same bytes and type", async () => {
  await withStorage(async ({ fake, storage, dir }) => {
    const bytes = randomBytes(3000);
    const path = join(dir, "small.png");
    await Deno.writeFile(path, bytes);

    const uploaded = await storage.uploadFile(path);
    assert.deepEqual(
      { ...uploaded, url: undefined },
      { url: undefined, contentType: "image/png", size: 3000, fileName: "small.png" },
    );
    const served = await download(uploaded.url);
    assert.equal(served.type, "image/png");
    assert.deepEqual(served.bytes, bytes);

    const [upload] = fake.state.uploads;
    assert.equal(fake.state.uploads.length, 1);
    assert.equal(upload?.multipart, false);
    assert.equal(upload?.completed, true);
    assert.equal(upload?.fileName, "small.png");
    const initiate = fake.state.requests.find((r) => r.path === "/rest/storage/upload/initiate");
    assert.equal(initiate?.search, "?storage_type=fal-cdn-v3");
    assert.equal(initiate?.hasAuthorization, true);
    const put = fake.state.requests.find((r) => r.method === "PUT");
    assert.ok(put?.path.startsWith("/upload/"));
    assert.equal(put?.hasAuthorization, false, "the signed upload URL never gets the key");
    assert.equal(put?.contentType, "image/png");
  });
});

Deno.test("upload initiation answered 502/503 is retried, like fal's JS client, and the upload completes", async () => {
  await withStorage(async ({ fake, storage, dir }) => {
    const path = join(dir, "retried.png");
    await Deno.writeFile(path, randomBytes(1000));
    const fault = fake.injectFault({
      match: { method: "POST", path: /^\/rest\/storage\/upload\/initiate$/ },
      respond: 503,
      times: 2,
    });
    const uploaded = await storage.uploadFile(path);
    assert.equal(fault.fired, 2);
    assert.equal((await download(uploaded.url)).bytes.length, 1000);
    assert.equal(fake.state.uploads.length, 1, "one upload was made");
  });
});

Deno.test("file uploads send an exact Content-Length (not chunked) and no key to the upload URL", async () => {
  const seen: { method: string; length: string | null; chunked: boolean; auth: boolean }[] = [];
  let origin = "";
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const body = await req.bytes();
    seen.push({
      method: req.method,
      length: req.headers.get("content-length"),
      chunked: req.headers.get("transfer-encoding") === "chunked",
      auth: req.headers.has("authorization"),
    });
    if (url.pathname === "/rest/storage/upload/initiate") {
      return Response.json({ upload_url: `${origin}/signed?sig=abc`, file_url: `${origin}/f` });
    }
    return new Response(null, { status: body.length === 5000 ? 200 : 400 });
  });
  origin = `http://127.0.0.1:${server.addr.port}`;
  const dir = await Deno.makeTempDir();
  try {
    const hosts = resolveFalHosts(origin);
    const storage = new FalStorage({ fal: new FalClient({ hosts, key: KEY }), hosts });
    const path = join(dir, "clip.mp4");
    await Deno.writeFile(path, randomBytes(5000));
    const uploaded = await storage.uploadFile(path);
    assert.equal(uploaded.url, `${origin}/f`);
    assert.deepEqual(seen[1], { method: "PUT", length: "5000", chunked: false, auth: false });
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an upload URL refusing the bytes fails with its status and detail, without the URL", async () => {
  let origin = "";
  let puts = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    if (new URL(req.url).pathname === "/rest/storage/upload/initiate") {
      return Response.json({ upload_url: `${origin}/signed?sig=s3cr3t`, file_url: `${origin}/f` });
    }
    puts++;
    // Answers at once, without reading the 5 MiB body.
    return Response.json({ detail: "Signature expired" }, { status: 403 });
  });
  origin = `http://127.0.0.1:${server.addr.port}`;
  const dir = await Deno.makeTempDir();
  try {
    const hosts = resolveFalHosts(origin);
    const storage = new FalStorage({ fal: new FalClient({ hosts, key: KEY }), hosts });
    const path = join(dir, "big.png");
    await sparseFile(path, 5 * MiB);
    await assert.rejects(storage.uploadFile(path), (error) => {
      assert.ok(error instanceof FalApiError);
      assert.equal(error.falStatus, 403);
      assert.equal(
        error.message,
        "Cannot upload big.png: the upload URL answered 403: Signature expired",
      );
      return true;
    });
    assert.equal(puts, 1, "a 4xx is not retried");
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a multi-chunk file streams back byte for byte (buffer reuse keeps chunks in order)", async () => {
  await withStorage(async ({ storage, dir }) => {
    const bytes = randomBytes(3 * MiB + 12345);
    const path = join(dir, "noise.bin");
    await Deno.writeFile(path, bytes);
    const uploaded = await storage.uploadFile(path);
    assert.deepEqual((await download(uploaded.url)).bytes, bytes);
  });
});

Deno.test("resolveMediaInput uploads base64 and percent-encoded data URIs", async () => {
  await withStorage(async ({ fake, storage }) => {
    const bytes = randomBytes(1234);
    const url = await resolveMediaInput(`data:image/webp;base64,${bytes.toBase64()}`, storage);
    const served = await download(url);
    assert.equal(served.type, "image/webp");
    assert.deepEqual(served.bytes, bytes);
    assert.equal(fake.state.uploads[0]?.fileName, "upload.webp");

    const text = await resolveMediaInput("data:text/plain,hello%20world%FF", storage);
    const servedText = await download(text);
    assert.deepEqual(
      servedText.bytes,
      new Uint8Array([...new TextEncoder().encode("hello world"), 0xff]),
    );
    assert.equal(fake.state.uploads[1]?.fileName, "upload.txt");

    await assert.rejects(
      resolveMediaInput("data:image/png;base64,***", storage),
      (error) =>
        error instanceof FalMcpError && error.status === 400 && /base64/.test(error.message),
    );
  });
});

Deno.test("resolveMediaInput passes http(s) URLs through without uploading", async () => {
  await withStorage(async ({ fake, storage }) => {
    for (const url of ["https://example.com/cat.png", "http://example.com/a b.jpg?x=1"]) {
      assert.equal(await resolveMediaInput(url, storage), url);
    }
    assert.equal(fake.state.uploads.length, 0);
    assert.equal(fake.state.requests.length, 0);
  });
});

Deno.test("resolveMediaInput uploads file:// URLs and local paths", async () => {
  await withStorage(async ({ fake, storage, dir }) => {
    const path = join(dir, "voice.wav");
    const bytes = randomBytes(700);
    await Deno.writeFile(path, bytes);
    const fromUrl = await resolveMediaInput(pathToFileURL(path).href, storage);
    const fromPath = await resolveMediaInput(path, storage);
    for (const url of [fromUrl, fromPath]) {
      const served = await download(url);
      assert.equal(served.type, "audio/wav");
      assert.deepEqual(served.bytes, bytes);
    }
    assert.equal(fake.state.uploads.length, 2);
  });
});

Deno.test("local paths: ~/ expands with HOME, relative paths resolve against the cwd", () => {
  const home = Deno.env.get("HOME");
  if (home) assert.equal(resolveLocalPath("~/pics/a.png"), join(home, "pics", "a.png"));
  assert.equal(resolveLocalPath("pics/a.png"), join(Deno.cwd(), "pics", "a.png"));
  assert.equal(resolveLocalPath("/tmp/a.png"), "/tmp/a.png");
});

Deno.test("uploading a missing path, a directory or another URL scheme fails clearly", async () => {
  await withStorage(async ({ fake, storage, dir }) => {
    const missing = join(dir, "nope.png");
    const isInvalidParams = (pattern: RegExp) => (error: unknown) => {
      assert.ok(error instanceof FalMcpError);
      assert.equal(error.status, 400);
      assert.equal(error.code, JsonRpcCode.InvalidParams);
      assert.match(error.message, pattern);
      return true;
    };
    await assert.rejects(
      storage.uploadFile(missing),
      isInvalidParams(new RegExp(`^Cannot upload ${missing}: no such file$`)),
    );
    await assert.rejects(resolveMediaInput(missing, storage), isInvalidParams(/no such file/));
    await assert.rejects(storage.uploadFile(dir), isInvalidParams(/is a directory/));
    await assert.rejects(
      resolveMediaInput("s3://bucket/cat.png", storage),
      isInvalidParams(/http\(s\) URL, a data: URI, a file:\/\/ URL or a local file path/),
    );
    await assert.rejects(resolveMediaInput("  ", storage), isInvalidParams(/empty/));
    assert.equal(fake.state.requests.length, 0, "nothing reaches fal for a bad input");
  });
});

Deno.test("a refused key fails the upload saying the key was rejected, never showing it", async () => {
  await withStorage(
    async ({ storage, dir }) => {
      const path = join(dir, "a.txt");
      await Deno.writeTextFile(path, "hi");
      await assert.rejects(storage.uploadFile(path), (error) => {
        assert.ok(error instanceof FalApiError);
        assert.equal(error.falStatus, 401);
        assert.match(
          error.message,
          /^fal rejected the API key \(fal answered 401: .*check FAL_KEY/,
        );
        assert.ok(!error.message.includes("wrong-key"));
        return true;
      });
    },
    {},
    "wrong-key",
  );
});

Deno.test("content types come from the file extension, octet-stream otherwise", () => {
  const cases: Record<string, string> = {
    "a.png": "image/png",
    "a.JPG": "image/jpeg",
    "a.jpeg": "image/jpeg",
    "a.webp": "image/webp",
    "a.gif": "image/gif",
    "a.bmp": "image/bmp",
    "a.tiff": "image/tiff",
    "a.svg": "image/svg+xml",
    "a.mp4": "video/mp4",
    "a.mov": "video/quicktime",
    "a.webm": "video/webm",
    "a.mkv": "video/x-matroska",
    "a.avi": "video/x-msvideo",
    "a.mp3": "audio/mpeg",
    "a.wav": "audio/wav",
    "a.ogg": "audio/ogg",
    "a.flac": "audio/flac",
    "a.m4a": "audio/mp4",
    "a.aac": "audio/aac",
    "a.opus": "audio/opus",
    "a.json": "application/json",
    "a.txt": "text/plain",
    "a.pdf": "application/pdf",
    "a.zip": "application/zip",
    "/x/y/archive.tar.gz": "application/octet-stream",
    "no-extension": "application/octet-stream",
    ".png": "application/octet-stream",
  };
  for (const [path, type] of Object.entries(cases)) {
    assert.equal(contentTypeForPath(path), type, path);
  }
  assert.equal(extensionForContentType("image/jpeg"), "jpg");
  assert.equal(extensionForContentType("audio/mpeg; charset=x"), "mp3");
  assert.equal(extensionForContentType("application/x-unknown"), undefined);
});

Deno.test("a sparse file just over 90 MiB goes up in ten 10 MiB parts and completes", async () => {
  await withStorage(async ({ fake, storage, dir }) => {
    const path = join(dir, "big.mp4");
    await sparseFile(path, 95 * MiB);
    const uploaded = await storage.uploadFile(path);
    assert.equal(uploaded.size, 95 * MiB);
    assert.equal(uploaded.contentType, "video/mp4");

    const upload = fake.state.uploads[0];
    assert.equal(fake.state.uploads.length, 1);
    assert.equal(upload?.multipart, true);
    assert.equal(upload?.completed, true);
    assert.equal(upload?.size, 95 * MiB);
    assert.deepEqual(
      upload?.parts.map((p) => [p.partNumber, p.size]),
      Array.from({ length: 10 }, (_, i) => [i + 1, i < 9 ? 10 * MiB : 5 * MiB]),
    );
    const initiate = fake.state.requests.find((r) => r.path.endsWith("/initiate-multipart"));
    assert.equal(initiate?.search, "?storage_type=fal-cdn-v3");
    const puts = fake.state.requests.filter((r) => r.method === "PUT");
    assert.equal(puts.length, 10);
    assert.ok(puts.every((r) => !r.hasAuthorization));
    assert.ok(fake.state.requests.some((r) => r.path.endsWith("/complete") && r.status === 200));

    const head = await fetch(uploaded.url, { method: "HEAD" });
    assert.equal(head.headers.get("content-length"), String(95 * MiB));
  });
});

Deno.test("a custom threshold and part size split parts at exact boundaries", async () => {
  await withStorage(async ({ fake, storage, dir }) => {
    const sizesOf = () => fake.state.uploads.at(-1)?.parts.map((p) => p.size);
    const cases: [number, boolean, number[]][] = [
      [1000, false, []], // at the threshold: one PUT
      [1001, true, [256, 256, 256, 233]],
      [1024, true, [256, 256, 256, 256]],
      [1025, true, [256, 256, 256, 256, 1]],
    ];
    for (const [size, multipart, parts] of cases) {
      const bytes = randomBytes(size);
      const path = join(dir, `f${size}.bin`);
      await Deno.writeFile(path, bytes);
      const uploaded = await storage.uploadFile(path);
      assert.equal(fake.state.uploads.at(-1)?.multipart, multipart, `${size}`);
      assert.deepEqual(sizesOf(), parts, `${size}`);
      const served = await download(uploaded.url);
      assert.deepEqual(served.bytes, bytes, `${size} bytes served back in order`);
      assert.equal(served.type, "application/octet-stream");
    }
    // uploadBytes takes the same paths.
    const bytes = randomBytes(1100);
    const uploaded = await storage.uploadBytes(bytes, "image/png", "x.png");
    assert.deepEqual(sizesOf(), [256, 256, 256, 256, 76]);
    assert.deepEqual((await download(uploaded.url)).bytes, bytes);
  }, { multipartThresholdBytes: 1000, partSizeBytes: 256 });
});
