import assert from "node:assert/strict";
import { join } from "node:path";
import { FalMcpError, JsonRpcCode } from "../src/errors.ts";
import { FalClient } from "../src/fal/client.ts";
import { resolveFalHosts } from "../src/fal/hosts.ts";
import { saveMediaFiles } from "../src/files/save_output.ts";
import { findMediaFiles, type MediaFile } from "../src/files/media_files.ts";
import { type FakeFal, startFakeFal } from "./fake_fal/server.ts";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

interface Harness {
  fake: FakeFal;
  fal: FalClient;
  /** A temp dir holding `out/` (the output directory) and `outside/`. */
  root: string;
  out: string;
  outside: string;
}

async function withFake(fn: (h: Harness) => Promise<void>): Promise<void> {
  const fake = await startFakeFal({ jobDurationMs: 20 });
  const root = await Deno.makeTempDir({ prefix: "fal-mcp-save-" });
  try {
    const fal = new FalClient({ hosts: resolveFalHosts(fake.url), key: "test-key" });
    const out = join(root, "out");
    const outside = join(root, "outside");
    await Deno.mkdir(outside);
    await fn({ fake, fal, root, out, outside });
  } finally {
    await fake.close();
    await Deno.remove(root, { recursive: true });
  }
}

async function generatedImages(fal: FalClient, input: Record<string, unknown> = {}) {
  const output = await fal.run("fal-ai/flux/dev", {
    prompt: "a red fox",
    seed: 7,
    output_format: "png",
    ...input,
  });
  const files = findMediaFiles(output);
  assert.equal(files.length, 1);
  return files;
}

async function names(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) found.push(entry.name);
  return found.sort();
}

Deno.test("saves a generated PNG into the output directory, streamed from its URL", async () => {
  await withFake(async ({ fal, out }) => {
    const files = await generatedImages(fal);
    const [saved] = await saveMediaFiles(files, out, { fetch });
    assert.ok(saved);
    const realOut = await Deno.realPath(out);
    assert.equal(saved.path, join(realOut, saved.path.split("/").pop()!));
    assert.match(saved.path, /image-0\.png$/);
    assert.equal(saved.url, files[0]!.url);
    assert.equal(saved.contentType, "image/png");
    const written = await Deno.readFile(saved.path);
    assert.equal(saved.bytes, written.length);
    assert.deepEqual([...written.subarray(0, 8)], PNG_SIGNATURE);
    const original = await (await fetch(files[0]!.url)).bytes();
    assert.deepEqual(written, original);
  });
});

Deno.test("saving the same file again never overwrites: -1, -2 are added to the name", async () => {
  await withFake(async ({ fal, out }) => {
    const files = await generatedImages(fal);
    const first = await saveMediaFiles(files, out, { fetch, subdir: "foxes" });
    const second = await saveMediaFiles(files, out, { fetch, subdir: "foxes" });
    const third = await saveMediaFiles(files, out, { fetch, subdir: "foxes" });
    const base = first[0]!.path.replace(/\.png$/, "");
    assert.equal(second[0]!.path, `${base}-1.png`);
    assert.equal(third[0]!.path, `${base}-2.png`);
    assert.equal((await names(join(out, "foxes"))).length, 3);
  });
});

Deno.test("save_to that escapes the output directory is refused and nothing is written outside", async () => {
  await withFake(async ({ fal, root, out, outside }) => {
    const files = await generatedImages(fal);
    await Deno.mkdir(out);
    await Deno.symlink(outside, join(out, "link"));
    await Deno.symlink(join(outside, "not-yet"), join(out, "dangling"));
    for (
      const subdir of [
        "../x",
        outside,
        "/abs",
        "a/../../b",
        "..",
        "link",
        "link/deeper",
        "dangling",
      ]
    ) {
      await assert.rejects(saveMediaFiles(files, out, { fetch, subdir }), (error) => {
        assert.ok(error instanceof FalMcpError, subdir);
        assert.equal(error.status, 400);
        assert.equal(error.code, JsonRpcCode.InvalidParams);
        assert.match(error.message, /escapes the output directory/, subdir);
        return true;
      });
    }
    assert.deepEqual(await names(outside), [], "nothing was written through the symlinks");
    assert.deepEqual(await names(root), ["out", "outside"], "nothing was created beside out/");
    assert.deepEqual(await names(out), ["dangling", "link"], "no folder was created in out/");
  });
});

Deno.test("save_to inside the output directory creates nested folders (symlinks inside are fine)", async () => {
  await withFake(async ({ fal, out }) => {
    const files = await generatedImages(fal);
    const [nested] = await saveMediaFiles(files, out, { fetch, subdir: "2024/./cats/" });
    const realOut = await Deno.realPath(out);
    assert.ok(nested!.path.startsWith(join(realOut, "2024", "cats") + "/"));
    await Deno.symlink(join(realOut, "2024"), join(out, "alias"));
    const [viaAlias] = await saveMediaFiles(files, out, { fetch, subdir: "alias/cats" });
    assert.ok(viaAlias!.path.startsWith(join(realOut, "2024", "cats") + "/"));
    assert.notEqual(viaAlias!.path, nested!.path);
  });
});

Deno.test("data URIs are decoded and saved with a name from the output path and type", async () => {
  await withFake(async ({ fal, out }) => {
    const files = await generatedImages(fal, { sync_mode: true });
    assert.ok(files[0]!.url.startsWith("data:image/png;base64,"));
    const [saved] = await saveMediaFiles(files, out, { fetch, prefix: "req42" });
    assert.match(saved!.path, /\/req42-images-0\.png$/);
    assert.equal(saved!.url, "data:image/png;base64,…");
    const written = await Deno.readFile(saved!.path);
    assert.deepEqual([...written.subarray(0, 8)], PNG_SIGNATURE);
    assert.equal(saved!.bytes, written.length);

    const text: MediaFile = { url: "data:,hello%20there", path: "output" };
    const [plain] = await saveMediaFiles([text], out, { fetch });
    assert.match(plain!.path, /\/output\.txt$/);
    assert.equal(await Deno.readTextFile(plain!.path), "hello there");
  });
});

Deno.test("file names are made safe and bounded", async () => {
  await withFake(async ({ out }) => {
    const data = "data:text/plain;base64,aGk=";
    const files: MediaFile[] = [
      { url: data, fileName: "../../etc/passwd", path: "a" },
      { url: data, fileName: `${"x".repeat(400)}.txt`, path: "b" },
      { url: data, fileName: "héllo wörld?.TXT", path: "c" },
      { url: data, fileName: "...", path: "d" },
    ];
    const saved = await saveMediaFiles(files, out, { fetch });
    const written = saved.map((s) => s.path.split("/").pop()!);
    assert.equal(written[0], "etc_passwd.txt");
    assert.ok(written[1]!.length <= 120 && written[1]!.endsWith(".txt"));
    assert.equal(written[2], "h_llo_w_rld.TXT");
    assert.equal(written[3], "file.txt");
    for (const name of written) assert.match(name, /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
    assert.equal((await names(await Deno.realPath(out))).length, 4);
  });
});

Deno.test("a failed download is reported and leaves no partial file", async () => {
  await withFake(async ({ fake, out }) => {
    const missing: MediaFile = {
      url: `${fake.url}/files/nope.png`,
      contentType: "image/png",
      path: "images[0]",
    };
    await assert.rejects(
      saveMediaFiles([missing], out, { fetch }),
      /Cannot save images\[0\]: downloading it answered 404/,
    );
    assert.deepEqual(await names(out), []);
  });
});
