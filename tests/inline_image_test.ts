import assert from "node:assert/strict";
import { FalClient } from "../src/fal/client.ts";
import { resolveFalHosts } from "../src/fal/hosts.ts";
import { FalStorage } from "../src/fal/storage.ts";
import { inlineImage } from "../src/files/inline_image.ts";
import type { MediaFile } from "../src/files/media_files.ts";
import { type FakeFal, startFakeFal } from "./fake_fal/server.ts";

async function withFake(fn: (fake: FakeFal, storage: FalStorage) => Promise<void>) {
  const fake = await startFakeFal();
  try {
    const hosts = resolveFalHosts(fake.url);
    const fal = new FalClient({ hosts, key: "test-key" });
    await fn(fake, new FalStorage({ fal, hosts }));
  } finally {
    await fake.close();
  }
}

function bytesOf(length: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** A fetch that serves `body` in 1 KiB chunks and counts how many chunks were read. */
function chunkedFetch(body: Uint8Array, contentLength: boolean) {
  const stats = { pulled: 0, cancelled: false };
  const fetchImpl = () => {
    let offset = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= body.length) return controller.close();
        stats.pulled++;
        controller.enqueue(body.slice(offset, offset + 1024));
        offset += 1024;
      },
      cancel() {
        stats.cancelled = true;
      },
    });
    const headers: Record<string, string> = { "content-type": "image/png" };
    if (contentLength) headers["content-length"] = String(body.length);
    return Promise.resolve(new Response(stream, { headers }));
  };
  return { fetch: fetchImpl as typeof fetch, stats };
}

Deno.test("an image under the cap is inlined with matching base64 and type", async () => {
  await withFake(async (_fake, storage) => {
    const bytes = bytesOf(4000);
    const uploaded = await storage.uploadBytes(bytes, "image/png", "a.png");
    const file: MediaFile = { url: uploaded.url, contentType: "image/png", path: "images[0]" };
    const block = await inlineImage(file, 4000, fetch);
    assert.deepEqual(block, { type: "image", data: bytes.toBase64(), mimeType: "image/png" });
  });
});

Deno.test("a data URI image under the cap is inlined directly", async () => {
  const bytes = bytesOf(300);
  const file: MediaFile = {
    url: `data:image/jpeg;base64,${bytes.toBase64()}`,
    contentType: "image/jpeg",
    path: "image",
  };
  const never = (() => Promise.reject(new Error("no fetch expected"))) as typeof fetch;
  const block = await inlineImage(file, 1000, never);
  assert.deepEqual(block, { type: "image", data: bytes.toBase64(), mimeType: "image/jpeg" });
  assert.equal(await inlineImage(file, 299, never), undefined);
});

Deno.test("an image over the cap is not inlined: known size, declared length, or counted", async () => {
  const body = bytesOf(10 * 1024);
  const file: MediaFile = { url: "https://cdn.test/a.png", contentType: "image/png", path: "x" };

  const untouched = chunkedFetch(body, true);
  assert.equal(
    await inlineImage({ ...file, fileSize: body.length }, 5000, untouched.fetch),
    undefined,
  );
  assert.equal(untouched.stats.pulled, 0, "a known fileSize over the cap is not even fetched");

  const declared = chunkedFetch(body, true);
  assert.equal(await inlineImage(file, 5000, declared.fetch), undefined);
  assert.ok(declared.stats.pulled <= 1, "a Content-Length over the cap stops before reading");

  const unknown = chunkedFetch(body, false);
  assert.equal(await inlineImage(file, 5000, unknown.fetch), undefined);
  assert.equal(unknown.stats.cancelled, true);
  assert.ok(unknown.stats.pulled <= 6, `read ${unknown.stats.pulled} chunks: stops at the cap`);

  const fits = chunkedFetch(body, false);
  const block = await inlineImage(file, body.length, fits.fetch);
  assert.equal(block?.data, body.toBase64());
});

Deno.test("non-images and a zero cap are never inlined", async () => {
  await withFake(async (fake, storage) => {
    const uploaded = await storage.uploadBytes(bytesOf(100), "video/mp4", "a.mp4");
    const requestsBefore = fake.state.requests.length;
    const video: MediaFile = { url: uploaded.url, contentType: "video/mp4", path: "video" };
    assert.equal(await inlineImage(video, 1_000_000, fetch), undefined);
    const untyped: MediaFile = { url: uploaded.url, path: "file" };
    assert.equal(await inlineImage(untyped, 1_000_000, fetch), undefined);
    const image: MediaFile = { url: uploaded.url, contentType: "image/png", path: "image" };
    assert.equal(await inlineImage(image, 0, fetch), undefined);
    assert.equal(fake.state.requests.length, requestsBefore, "nothing was downloaded");
  });
});

Deno.test("a failed download is not inlined (the link still stands)", async () => {
  await withFake(async (fake) => {
    const file: MediaFile = {
      url: `${fake.url}/files/missing.png`,
      contentType: "image/png",
      path: "images[0]",
    };
    assert.equal(await inlineImage(file, 1_000_000, fetch), undefined);
  });
});
