import assert from "node:assert/strict";
import jpeg from "jpeg-js";
import { imageSize, makePreview } from "../src/files/image_preview.ts";
import { makePreviewOffThread, stopPreviewWorkers } from "../src/files/preview_pool.ts";
import { readImageDimensions, renderJpeg, renderPng } from "./fake_fal/media.ts";
import { allText, type ToolAnswer, withToolClient } from "./helpers/tool_client.ts";

function decoded(bytes: Uint8Array) {
  return jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
}

Deno.test("a PNG preview is a JPEG whose longest side is 512 px, keeping the aspect ratio", () => {
  const png = renderPng({ width: 2048, height: 1024, seed: 4 });
  const preview = makePreview(png, "image/png")!;
  assert.equal(preview.mimeType, "image/jpeg");
  assert.deepEqual([preview.width, preview.height], [512, 256]);
  assert.deepEqual([preview.sourceWidth, preview.sourceHeight], [2048, 1024]);
  assert.deepEqual(readImageDimensions(preview.bytes), { width: 512, height: 256 });
  assert.ok(preview.bytes.length < 50_000, `${preview.bytes.length} bytes`);
  const image = decoded(preview.bytes);
  assert.deepEqual([image.width, image.height], [512, 256]);
});

Deno.test("a JPEG preview is downscaled too; a small image keeps its size", () => {
  const big = makePreview(renderJpeg({ width: 1024, height: 768, seed: 5 }), "image/jpeg")!;
  assert.deepEqual([big.width, big.height], [512, 384]);
  const small = makePreview(renderPng({ width: 64, height: 32, seed: 6 }), "image/png")!;
  assert.deepEqual([small.width, small.height], [64, 32]);
});

Deno.test("transparency is flattened onto white in the preview", () => {
  const png = renderPng({ width: 600, height: 600, seed: 7, alpha: true });
  const image = decoded(makePreview(png, "image/png")!.bytes);
  // The corner is transparent in the source (the subject is a central ellipse).
  const [r, g, b] = [image.data[0]!, image.data[1]!, image.data[2]!];
  assert.ok(r > 240 && g > 240 && b > 240, `corner is ${r},${g},${b}`);
});

Deno.test("no preview for other formats, undecodable bytes or images over the pixel cap", () => {
  const png = renderPng({ width: 300, height: 200, seed: 8 });
  assert.equal(makePreview(png, "image/webp"), undefined);
  assert.equal(
    makePreview(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]), "image/png"),
    undefined,
  );
  assert.equal(makePreview(png, "image/png", { maxPixels: 300 * 199 }), undefined);
  assert.deepEqual(imageSize(png), { width: 300, height: 200 });
  assert.deepEqual(imageSize(renderJpeg({ width: 320, height: 240, seed: 9 })), {
    width: 320,
    height: 240,
  });
});

function images(answer: ToolAnswer) {
  return answer.content.filter((c) => c.type === "image");
}

Deno.test("an upscaled image comes back as a small inline preview plus a link to the full file", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("upscale_image", {
      image: "https://example.com/photo.png",
      scale: 2,
    });
    assert.notEqual(answer.isError, true, allText(answer));
    const [preview] = images(answer);
    assert.equal(images(answer).length, 1);
    assert.equal(preview!.mimeType, "image/jpeg");
    const bytes = Uint8Array.fromBase64(preview!.data!);
    const dims = readImageDimensions(bytes)!;
    assert.equal(Math.max(dims.width, dims.height), 512);
    assert.ok(preview!.data!.length < 30_000, `${preview!.data!.length} base64 characters`);

    const link = answer.content.find((c) => c.type === "resource_link")!;
    assert.equal(link.mimeType, "image/png");
    const served = await (await fetch(link.uri!)).bytes();
    assert.equal(link.size, served.length, "the link gives the full file's size");
    assert.deepEqual(readImageDimensions(served), { width: 2048, height: 2048 });
    assert.match(allText(answer), /image: image\/png, 2048x2048, \d+ bytes/);
    assert.match(
      allText(answer),
      /image: inline preview 512x512 JPEG \(\d+ bytes\); the full file/,
    );
  });
});

Deno.test("inline images of one result stay within --inline-max-bytes in total", async () => {
  await withToolClient(async (ctx) => {
    const all = await ctx.call("generate_image", { prompt: "x", count: 4, size: "square_hd" });
    assert.notEqual(all.isError, true, allText(all));
    const sizes = images(all).map((i) => Uint8Array.fromBase64(i.data!).length);
    assert.equal(sizes.length, 4, "four previews fit the default budget");
    const budget = sizes[0]! + sizes[1]! + 10;
    await withToolClient(async (small) => {
      const answer = await small.call("generate_image", {
        prompt: "x",
        count: 4,
        size: "square_hd",
      });
      const inline = images(answer).map((i) => Uint8Array.fromBase64(i.data!).length);
      assert.ok(inline.length >= 1 && inline.length < 4, `${inline.length} inline`);
      assert.ok(inline.reduce((a, b) => a + b, 0) <= budget);
      assert.equal(answer.content.filter((c) => c.type === "resource_link").length, 4);
    }, { args: ["--inline-max-bytes", String(budget)] });
    await withToolClient(async (none) => {
      const answer = await none.call("generate_image", { prompt: "x" });
      assert.equal(images(answer).length, 0);
    }, { args: ["--inline-max-bytes", "0"] });
  });
});

Deno.test("a preview made on a worker is the same preview, and several are made side by side", async () => {
  const jpeg = renderJpeg({ width: 1024, height: 768, seed: 5 });
  const inline = makePreview(jpeg, "image/jpeg")!;
  try {
    const made = await Promise.all(
      [0, 1, 2].map(() => makePreviewOffThread(jpeg.slice(), "image/jpeg")),
    );
    for (const preview of made) {
      assert.ok(preview);
      assert.equal(preview.width, inline.width);
      assert.equal(preview.height, inline.height);
      assert.deepEqual(preview.bytes, inline.bytes);
    }
    assert.equal(await makePreviewOffThread(jpeg, "image/webp"), undefined);
  } finally {
    stopPreviewWorkers();
  }
});
