import assert from "node:assert/strict";
import { allText, textOf, type ToolContext, withToolClient } from "./helpers/tool_client.ts";
import { renderPng, renderWav } from "./fake_fal/media.ts";

function onlyJob(ctx: ToolContext) {
  const jobs = [...ctx.fake.state.jobs.values()];
  assert.equal(jobs.length, 1, `expected one fal job, got ${jobs.length}`);
  return jobs[0]!;
}

function links(answer: { content: { type: string; uri?: string; mimeType?: string }[] }) {
  return answer.content.filter((c) => c.type === "resource_link");
}

Deno.test("generate_image maps friendly arguments onto the default model's inputs", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("generate_image", {
      prompt: "a lighthouse at dusk",
      aspect_ratio: "16:9",
      count: 2,
      seed: 42,
      format: "png",
    });
    assert.notEqual(answer.isError, true, allText(answer));
    const job = onlyJob(ctx);
    assert.equal(job.endpointId, "fal-ai/flux/dev");
    assert.deepEqual(job.input, {
      prompt: "a lighthouse at dusk",
      image_size: "landscape_16_9",
      num_images: 2,
      seed: 42,
      output_format: "png",
    });
    assert.equal(links(answer).length, 2);
    assert.ok(links(answer).every((l) => l.mimeType === "image/png"));
    // Each image also comes back inline as a small preview, so clients can show it.
    const images = answer.content.filter((c) => c.type === "image");
    assert.equal(images.length, 2);
    assert.equal(images[0]!.mimeType, "image/jpeg");
  });
});

Deno.test("generate_image with WIDTHxHEIGHT sends an explicit size", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("generate_image", { prompt: "x", size: "640x480" });
    assert.notEqual(answer.isError, true, allText(answer));
    assert.deepEqual(onlyJob(ctx).input.image_size, { width: 640, height: 480 });
  });
});

Deno.test("generate_image leaves out an argument the model does not take, and says so", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("generate_image", { prompt: "x", negative_prompt: "blur" });
    assert.notEqual(answer.isError, true, allText(answer));
    assert.equal(onlyJob(ctx).input.negative_prompt, undefined);
    assert.match(allText(answer), /fal-ai\/flux\/dev takes no negative_prompt input/);
  });
});

Deno.test("a task tool's input that does not fit the model's schema is refused by field, before submitting", async () => {
  await withToolClient(async (ctx) => {
    const wrongModel = await ctx.call("generate_image", {
      prompt: "x",
      model: "fal-ai/flux-pro/kontext",
    });
    assert.equal(wrongModel.isError, true);
    assert.match(
      textOf(wrongModel),
      /Cannot run fal-ai\/flux-pro\/kontext: image_url is required/,
    );
    const badSize = await ctx.call("generate_image", { prompt: "x", size: "enormous" });
    assert.equal(badSize.isError, true);
    assert.match(
      textOf(badSize),
      /^size must be one of square_hd, square, .* for fal-ai\/flux\/dev \(got enormous\)/,
    );
    assert.equal(ctx.fake.state.jobs.size, 0, "nothing was submitted (or paid for)");
  });
});

Deno.test("a task tool's model argument picks any other endpoint; an unknown one is named", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("generate_image", { prompt: "x", model: "fal-ai/flux/schnell" });
    assert.notEqual(answer.isError, true, allText(answer));
    assert.equal(onlyJob(ctx).endpointId, "fal-ai/flux/schnell");
    const unknown = await ctx.call("generate_image", { prompt: "x", model: "nobody/nothing" });
    assert.equal(unknown.isError, true);
    assert.match(textOf(unknown), /Unknown endpoint id "nobody\/nothing".*search_models/);
  });
});

Deno.test("--model TASK=ENDPOINT changes a task tool's default", async () => {
  await withToolClient(async (ctx) => {
    await ctx.call("generate_image", { prompt: "x" });
    assert.equal(onlyJob(ctx).endpointId, "fal-ai/flux/schnell");
  }, { args: ["--model", "generate_image=fal-ai/flux/schnell"] });
});

Deno.test("edit_image uploads a data: URI image first and passes its URL", async () => {
  await withToolClient(async (ctx) => {
    const png = renderPng({ width: 8, height: 8, seed: 1 });
    const dataUri = `data:image/png;base64,${btoa(String.fromCharCode(...png))}`;
    const answer = await ctx.call("edit_image", { image: dataUri, instruction: "make it blue" });
    assert.notEqual(answer.isError, true, allText(answer));
    assert.equal(ctx.fake.state.uploads.length, 1);
    const job = onlyJob(ctx);
    assert.equal(job.endpointId, "fal-ai/flux-pro/kontext");
    assert.equal(job.input.image_url, ctx.fake.state.uploads[0]!.fileUrl);
    assert.equal(job.input.prompt, "make it blue");
  });
});

Deno.test("remove_background uploads a local file and returns the cut-out image", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/photo.png`;
    await Deno.writeFile(path, renderPng({ width: 16, height: 16, seed: 2 }));
    await withToolClient(async (ctx) => {
      const answer = await ctx.call("remove_background", { image: path });
      assert.notEqual(answer.isError, true, allText(answer));
      assert.equal(ctx.fake.state.uploads[0]?.contentType, "image/png");
      assert.equal(onlyJob(ctx).endpointId, "fal-ai/imageutils/rembg");
      assert.equal(links(answer).length, 1);
    }, { args: ["--allow-local-files", dir] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a media argument naming a missing local file is answered with a clear error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withToolClient(async (ctx) => {
      const answer = await ctx.call("remove_background", { image: `${dir}/no-such-photo.png` });
      assert.equal(answer.isError, true);
      assert.match(textOf(answer), /no-such-photo\.png: no such file/);
      assert.equal(ctx.fake.state.jobs.size, 0);
    }, { args: ["--allow-local-files", dir] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("upscale_image maps scale onto the model's upscale factor", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("upscale_image", {
      image: "https://example.com/photo.png",
      scale: 2,
    });
    assert.notEqual(answer.isError, true, allText(answer));
    const job = onlyJob(ctx);
    assert.equal(job.input.image_url, "https://example.com/photo.png");
    assert.equal(job.input.upscale_factor, 2);
  });
});

Deno.test("generate_video hands back a job when it outlasts the wait; get_job then returns the video", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("generate_video", {
      prompt: "waves",
      duration: 9,
      aspect_ratio: "9:16",
    });
    assert.notEqual(answer.isError, true, allText(answer));
    const job = onlyJob(ctx);
    assert.equal(job.endpointId, "fal-ai/kling-video/v2/master/text-to-video");
    assert.equal(job.input.duration, "10", "nearest allowed duration");
    assert.equal(job.input.aspect_ratio, "9:16");
    const jobId = answer.structuredContent?.job_id as string;
    assert.equal(jobId, job.requestId);
    assert.match(textOf(answer), /get_job/);

    const done = await ctx.call("get_job", { job_id: jobId, wait_seconds: 30 });
    assert.notEqual(done.isError, true, allText(done));
    assert.equal(done.structuredContent?.status, "COMPLETED");
    assert.equal(links(done)[0]?.mimeType, "video/mp4");
  }, { args: ["--sync-wait", "0"] });
});

Deno.test("generate_video with a start image uses the image-to-video default", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("generate_video", {
      prompt: "the cat turns its head",
      image: "https://example.com/cat.png",
    });
    assert.notEqual(answer.isError, true, allText(answer));
    const job = onlyJob(ctx);
    assert.equal(job.endpointId, "fal-ai/wan-i2v");
    assert.equal(job.input.image_url, "https://example.com/cat.png");
  });
});

Deno.test("generate_music returns an audio link", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("generate_music", { prompt: "calm piano", seed: 3 });
    assert.notEqual(answer.isError, true, allText(answer));
    assert.equal(onlyJob(ctx).endpointId, "fal-ai/lyria2");
    assert.match(links(answer)[0]?.mimeType ?? "", /^audio\//);
  });
});

Deno.test("text_to_speech speaks text with a voice", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("text_to_speech", { text: "Hello there", voice: "af_bella" });
    assert.notEqual(answer.isError, true, allText(answer));
    assert.deepEqual(onlyJob(ctx).input, { prompt: "Hello there", voice: "af_bella" });
    assert.match(links(answer)[0]?.mimeType ?? "", /^audio\//);
    const badVoice = await ctx.call("text_to_speech", { text: "x", voice: "nobody" });
    assert.equal(badVoice.isError, true);
    assert.match(textOf(badVoice), /^voice must be one of af_heart, af_alloy, .*am_santa for/);
  });
});

Deno.test("transcribe_audio returns the transcript with timestamps", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/speech.wav`;
    await Deno.writeFile(path, renderWav({ durationSeconds: 1, seed: 1, style: "speech" }));
    await withToolClient(async (ctx) => {
      const answer = await ctx.call("transcribe_audio", { audio: path, language: "en" });
      assert.notEqual(answer.isError, true, allText(answer));
      const job = onlyJob(ctx);
      assert.equal(job.endpointId, "fal-ai/whisper");
      assert.equal(job.input.language, "en");
      assert.match(allText(answer), /Transcript:\n\[0\.00-\d+\.\d\d\] \S/);
    }, { args: ["--allow-local-files", dir] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every tool sets its annotations on purpose", async () => {
  await withToolClient(async (ctx) => {
    const { tools } = await ctx.client.listTools();
    for (const tool of tools) {
      const a = tool.annotations ?? {};
      // Read-only tools say so; every other tool says whether it destroys anything. Hints
      // are sent only where they differ from the protocol's defaults (not read-only,
      // destructive, not idempotent, open-world) and mean something.
      if (a.readOnlyHint !== true) {
        assert.equal(a.readOnlyHint, undefined, `${tool.name}: readOnlyHint false is the default`);
        assert.equal(typeof a.destructiveHint, "boolean", `${tool.name} lacks destructiveHint`);
      }
      assert.ok(tool.description && tool.description.length > 40, `${tool.name} description`);
    }
    const byName = new Map(tools.map((t) => [t.name, t.annotations ?? {}]));
    assert.equal(byName.get("get_pricing")?.readOnlyHint, true);
    assert.equal(byName.get("cancel_job")?.destructiveHint, true);
    assert.equal(byName.get("generate_video")?.readOnlyHint ?? false, false);
    assert.equal(byName.get("generate_video")?.destructiveHint, false);
    assert.equal(byName.get("list_jobs")?.openWorldHint, false, "jobs are this server's own");
    assert.equal(byName.get("search_models")?.openWorldHint ?? true, true);
  });
});
