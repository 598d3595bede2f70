import assert from "node:assert/strict";
import { type CutResult, MAX_KEPT_URLS, readBoundedResult } from "../src/fal/bounded_result.ts";

/** A response whose body arrives in pieces of `size` bytes. */
function chunked(text: string, size: number): Response {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(offset, offset += size));
      },
    }),
  );
}

Deno.test("a result under --max-result-bytes is parsed whole", async () => {
  const output = { images: [{ url: "https://v3.fal.media/files/a.png" }], seed: 7 };
  assert.deepEqual(await readBoundedResult(chunked(JSON.stringify(output), 3), 1024), output);
  assert.equal(await readBoundedResult(chunked("not json", 3), 1024), "not json");
});

Deno.test("a result over --max-result-bytes keeps its media URLs, even split across chunks, and says it was cut", async () => {
  const output = {
    images: [
      { url: "https://v3.fal.media/files/a.png", content_type: "image/png" },
      { url: "data:image/png;base64," + "A".repeat(5000) },
      { url: "https://v3.fal.media/files/b-c.png" },
    ],
    video: { url: "https://v3.fal.media/files/v.mp4" },
    padding: "x".repeat(50_000),
  };
  // Spaces around the colon and a JSON escape in a URL, as any JSON writer may produce them.
  const text = JSON.stringify(output).replace(
    '"url":"https://v3.fal.media/files/b-c.png"',
    '"url" : "https://v3.fal.media/files/b\\u002dc.png"',
  );
  assert.ok(text.includes("\\u002d"));
  for (const size of [1, 7, 4096]) {
    const cut = await readBoundedResult(chunked(text, size), 2048) as CutResult;
    assert.deepEqual(cut.files.map((f) => f.url), [
      "https://v3.fal.media/files/a.png",
      "https://v3.fal.media/files/b-c.png",
      "https://v3.fal.media/files/v.mp4",
    ], `chunks of ${size}`);
    assert.equal(cut.result_bytes, text.length);
    assert.match(cut.truncated, /more than this server keeps \(--max-result-bytes 2048\)/);
  }
});

Deno.test("a cut result keeps a bounded number of URLs", async () => {
  const images = Array.from({ length: MAX_KEPT_URLS + 50 }, (_, i) => ({
    url: `https://v3.fal.media/files/${i}.png`,
  }));
  const cut = await readBoundedResult(
    chunked(JSON.stringify({ images }), 65536),
    4096,
  ) as CutResult;
  assert.equal(cut.files.length, MAX_KEPT_URLS);
  assert.match(cut.truncated, new RegExp(`the first ${MAX_KEPT_URLS}`));
});
