/**
 * Every task tool × every value each friendly argument accepts, against the default model's own
 * schema in the fake's catalogue (which mirrors fal's): each call must succeed at the fake, and
 * a value the model does not offer must come back as a note naming what was used instead.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  allText,
  type ToolAnswer,
  type ToolContext,
  withToolClient,
} from "./helpers/tool_client.ts";
import { renderPng, renderWav } from "./fake_fal/media.ts";
import { findModel, schemasOf } from "./fake_fal/catalogue.ts";
import { ASPECT_RATIOS } from "../src/tools/task_tool.ts";
import { IMAGE_SIZES } from "./fake_fal/catalogue.ts";

/** The enum of one input field of a catalogue model. */
function enumOf(endpointId: string, field: string): string[] {
  const model = findModel(endpointId)!;
  const input = schemasOf(model)[model.inputSchema]!;
  return [...(input.properties?.[field]?.enum ?? [])].map(String);
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The folder the test server shares with its HTTP callers (`--allow-local-files`). */
const shared = Deno.makeTempDirSync();

async function upload(ctx: ToolContext, name: string, bytes: Uint8Array): Promise<string> {
  try {
    await Deno.writeFile(`${shared}/${name}`, bytes);
    const answer = await ctx.call("upload_file", { path: `${shared}/${name}` });
    assert.notEqual(answer.isError, true, allText(answer));
    return answer.structuredContent?.url as string;
  } finally {
    await Deno.remove(`${shared}/${name}`);
  }
}

interface Case {
  tool: string;
  base: Record<string, unknown>;
  arg: string;
  values: unknown[];
}

function cases(image: string, audio: string): Case[] {
  const video = (base: Record<string, unknown>): Case[] => [
    { tool: "generate_video", base, arg: "duration", values: [...range(1, 60), 2.5, 7.5] },
    { tool: "generate_video", base, arg: "aspect_ratio", values: [...ASPECT_RATIOS] },
    { tool: "generate_video", base, arg: "negative_prompt", values: ["blur"] },
    { tool: "generate_video", base, arg: "seed", values: [0, 2 ** 31 - 1] },
  ];
  return [
    {
      tool: "generate_image",
      base: { prompt: "a lighthouse" },
      arg: "size",
      values: [...Object.keys(IMAGE_SIZES), "640x480", "1024 x 1536", "4096x4096"],
    },
    {
      tool: "generate_image",
      base: { prompt: "x" },
      arg: "aspect_ratio",
      values: [...ASPECT_RATIOS],
    },
    { tool: "generate_image", base: { prompt: "x" }, arg: "count", values: range(1, 8) },
    {
      tool: "generate_image",
      base: { prompt: "x" },
      arg: "format",
      values: ["jpeg", "png", "webp"],
    },
    { tool: "generate_image", base: { prompt: "x" }, arg: "seed", values: [0, 123456] },
    { tool: "generate_image", base: { prompt: "x" }, arg: "negative_prompt", values: ["blur"] },
    {
      tool: "edit_image",
      base: { image, instruction: "make it blue" },
      arg: "aspect_ratio",
      values: [...ASPECT_RATIOS],
    },
    {
      tool: "edit_image",
      base: { image, instruction: "x" },
      arg: "format",
      values: ["jpeg", "png"],
    },
    { tool: "edit_image", base: { image, instruction: "x" }, arg: "seed", values: [0, 99] },
    ...video({ prompt: "waves" }),
    ...video({ prompt: "the cat turns", image }),
    { tool: "generate_music", base: { prompt: "piano" }, arg: "duration", values: [1, 30, 600] },
    {
      tool: "generate_music",
      base: { prompt: "piano" },
      arg: "negative_prompt",
      values: ["drums"],
    },
    { tool: "generate_music", base: { prompt: "piano" }, arg: "seed", values: [0, 7] },
    {
      tool: "text_to_speech",
      base: { text: "Hello" },
      arg: "voice",
      values: enumOf("fal-ai/kokoro/american-english", "voice"),
    },
    { tool: "text_to_speech", base: { text: "Hello" }, arg: "speed", values: [0.25, 0.5, 1, 2, 4] },
    {
      tool: "transcribe_audio",
      base: { audio },
      arg: "language",
      values: [...enumOf("fal-ai/whisper", "language"), "EN"],
    },
    { tool: "transcribe_audio", base: { audio }, arg: "translate", values: [true, false] },
    { tool: "upscale_image", base: { image }, arg: "scale", values: [...range(1, 8), 1.5] },
    { tool: "upscale_image", base: { image }, arg: "prompt", values: ["crisp"] },
    { tool: "remove_background", base: { image }, arg: "image", values: [image] },
  ];
}

Deno.test("every task tool succeeds with every value of each friendly argument on its default model", async () => {
  await withToolClient(async (ctx) => {
    const image = await upload(ctx, "photo.png", renderPng({ width: 64, height: 48, seed: 1 }));
    const audio = await upload(
      ctx,
      "speech.wav",
      renderWav({ durationSeconds: 1, seed: 1, style: "speech" }),
    );
    const calls = cases(image, audio).flatMap((c) =>
      c.values.map((value) => ({ ...c, args: { ...c.base, [c.arg]: value }, value }))
    );
    let done = 0;
    const failures: string[] = [];
    // A few calls at a time: bounded load on the fake and the server.
    const queue = [...calls];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const answer: ToolAnswer = await ctx.call(next.tool, next.args);
        if (answer.isError || answer.structuredContent?.status !== "COMPLETED") {
          failures.push(
            `${next.tool} ${next.arg}=${JSON.stringify(next.value)}: ${allText(answer)}`,
          );
        }
        done++;
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    assert.deepEqual(failures, []);
    assert.equal(done, calls.length);
    assert.ok(calls.length > 300, `walked ${calls.length} calls`);
    // Previews are tested on their own (image_preview_test.ts); here they would only add time.
  }, {
    fake: { jobDurationMs: 0, queueSteps: 0 },
    args: ["--inline-max-bytes", "0", "--allow-local-files", shared],
  });
});

function lastJob(ctx: ToolContext) {
  return [...ctx.fake.state.jobs.values()].at(-1)!;
}

Deno.test("generate_video with a start image turns seconds into frames and a frame rate wan-i2v takes", async () => {
  await withToolClient(async (ctx) => {
    const image = "https://example.com/cat.png";
    const ten = await ctx.call("generate_video", { prompt: "x", image, duration: 10 });
    assert.notEqual(ten.isError, true, allText(ten));
    assert.deepEqual(
      [lastJob(ctx).input.num_frames, lastJob(ctx).input.frames_per_second],
      [100, 10],
    );
    assert.doesNotMatch(allText(ten), /became/, "10 s is exactly 100 frames at 10 fps");

    const five = await ctx.call("generate_video", { prompt: "x", image, duration: 5 });
    assert.notEqual(five.isError, true, allText(five));
    assert.equal(lastJob(ctx).input.num_frames, 81);
    assert.equal(lastJob(ctx).input.frames_per_second, undefined, "the usual 16 fps is kept");

    const one = await ctx.call("generate_video", { prompt: "x", image, duration: 1 });
    assert.notEqual(one.isError, true, allText(one));
    assert.deepEqual(
      [lastJob(ctx).input.num_frames, lastJob(ctx).input.frames_per_second],
      [81, 24],
    );
    assert.match(
      allText(one),
      /fal-ai\/wan-i2v makes 81-100 frames at 5-24 fps, so duration 1 became 81 frames at 24 fps \(3\.4 s\)/,
    );
  }, { fake: { jobDurationMs: 0, queueSteps: 0 } });
});

Deno.test("an aspect ratio the model does not offer becomes its nearest one, with a note", async () => {
  await withToolClient(async (ctx) => {
    const video = await ctx.call("generate_video", { prompt: "x", aspect_ratio: "21:9" });
    assert.notEqual(video.isError, true, allText(video));
    assert.equal(lastJob(ctx).input.aspect_ratio, "16:9");
    assert.match(
      allText(video),
      /aspect_ratio 21:9 became 16:9, the nearest fal-ai\/kling-video\/v2\/master\/text-to-video takes/,
    );
    const portrait = await ctx.call("generate_video", { prompt: "x", aspect_ratio: "2:3" });
    assert.notEqual(portrait.isError, true, allText(portrait));
    assert.equal(lastJob(ctx).input.aspect_ratio, "9:16");

    const image = await ctx.call("generate_image", { prompt: "x", aspect_ratio: "3:2" });
    assert.notEqual(image.isError, true, allText(image));
    assert.deepEqual(lastJob(ctx).input.image_size, { width: 1248, height: 832 });
    assert.match(allText(image), /aspect_ratio 3:2 was sent as 1248x832/);
  }, { fake: { jobDurationMs: 0, queueSteps: 0 } });
});

Deno.test("values beyond a model's bounds are brought inside them, with a note", async () => {
  await withToolClient(async (ctx) => {
    const many = await ctx.call("generate_image", { prompt: "x", count: 8 });
    assert.notEqual(many.isError, true, allText(many));
    assert.equal(lastJob(ctx).input.num_images, 4);
    assert.match(allText(many), /count 8 became 4, the nearest fal-ai\/flux\/dev takes/);

    const webp = await ctx.call("generate_image", { prompt: "x", format: "webp" });
    assert.notEqual(webp.isError, true, allText(webp));
    assert.equal(lastJob(ctx).input.output_format, "png");
    assert.match(allText(webp), /fal-ai\/flux\/dev makes no webp images, so it makes png/);

    const big = await ctx.call("upscale_image", { image: "https://example.com/a.png", scale: 8 });
    assert.notEqual(big.isError, true, allText(big));
    assert.equal(lastJob(ctx).input.upscale_factor, 4);
  }, { fake: { jobDurationMs: 0, queueSteps: 0 } });
});

Deno.test("a value with no nearest equivalent is refused before submitting, listing the allowed values", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("transcribe_audio", {
      audio: "https://example.com/a.wav",
      language: "klingon",
    });
    assert.equal(answer.isError, true);
    assert.match(allText(answer), /^language must be one of af, am, ar, .*zh for fal-ai\/whisper/);
    assert.equal(ctx.fake.state.jobs.size, 0);
  });
});
