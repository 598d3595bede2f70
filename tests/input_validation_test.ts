import assert from "node:assert/strict";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { allText, textOf, withToolClient } from "./helpers/tool_client.ts";

Deno.test("run_model refuses an unknown input field before submitting, suggesting the near name", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("run_model", {
      endpoint_id: "fal-ai/flux/dev",
      input: { promt: "a fox" },
    });
    assert.equal(answer.isError, true);
    assert.equal(
      textOf(answer),
      "Cannot run fal-ai/flux/dev: prompt is required; promt is not an input of this model " +
        '(did you mean prompt?). Nothing was submitted; see get_model_schema {"endpoint_id": ' +
        '"fal-ai/flux/dev"} for its inputs.',
    );
    assert.equal(ctx.fake.state.jobs.size, 0);
  });
});

Deno.test("submit_job refuses wrong types and values by field, in plain words", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("submit_job", {
      endpoint_id: "fal-ai/kling-video/v2/master/text-to-video",
      input: { prompt: "waves", duration: "7", cfg_scale: "high", aspect_ratio: "4:3" },
    });
    assert.equal(answer.isError, true);
    const text = textOf(answer);
    assert.match(text, /duration must be one of 5, 10 \(got 7\)/);
    assert.match(text, /cfg_scale must be a number \(got a string\)/);
    assert.match(text, /aspect_ratio must be one of 16:9, 9:16, 1:1 \(got 4:3\)/);
    assert.equal(ctx.fake.state.jobs.size, 0);

    const bounds = await ctx.call("submit_job", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "x", num_images: 9, image_size: { width: 9000, height: 512 } },
    });
    assert.match(textOf(bounds), /num_images must be at most 4 \(got 9\)/);
    assert.match(textOf(bounds), /image_size\.width must be at most 4096 \(got 9000\)/);
  });
});

Deno.test("validate: false sends the input as is, so fal itself answers", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("submit_job", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "a fox", extra_field: 1 },
      validate: false,
    });
    assert.notEqual(answer.isError, true, allText(answer));
    const job = [...ctx.fake.state.jobs.values()][0]!;
    assert.deepEqual(job.input, { prompt: "a fox", extra_field: 1 });

    const run = await ctx.call("run_model", {
      endpoint_id: "fal-ai/flux/dev",
      input: { seed: 1 },
      validate: false,
    });
    assert.equal(run.isError, true);
    assert.match(allText(run), /failed/);
    assert.equal(ctx.fake.state.jobs.size, 2, "the second job reached fal and failed there");
  });
});

Deno.test("a valid input passes the check and runs", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("run_model", {
      endpoint_id: "fal-ai/flux/schnell",
      input: { prompt: "a fox", image_size: "square", num_images: 2, output_format: "png" },
    });
    assert.notEqual(answer.isError, true, allText(answer));
    assert.equal(answer.structuredContent?.status, "COMPLETED");
  });
});

Deno.test("an endpoint whose schema fal cannot expand is submitted unchecked", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("submit_job", {
      endpoint_id: "fal-ai/stable-diffusion-v15",
      input: { prompt: "x", anything: true },
    });
    assert.notEqual(answer.isError, true, allText(answer));
    assert.equal(ctx.fake.state.jobs.size, 1);
  });
});

Deno.test("tool argument errors read like a sentence, not the validator's wording", async () => {
  await withToolClient(async (ctx) => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["generate_image", {}, /: prompt is required$/],
      ["generate_image", { prompt: "x", count: 9 }, /: count must be at most 8 \(got 9\)$/],
      ["generate_image", { prompt: "" }, /: prompt must not be empty$/],
      [
        "generate_video",
        { prompt: "x", aspect_ratio: "7:3" },
        /: aspect_ratio must be one of 21:9, 16:9, .*9:21 \(got 7:3\)$/,
      ],
      ["get_job", { job_id: 5 }, /: job_id must be a string \(got an integer\)$/],
      ["run_model", { endpoint_id: "fal-ai/flux/dev" }, /: input is required$/],
    ];
    for (const [tool, args, expected] of cases) {
      const answer = await ctx.call(tool, args);
      assert.equal(answer.isError, true, tool);
      assert.match(textOf(answer), expected);
      assert.doesNotMatch(textOf(answer), /Invalid input|expected string|received|Too small/);
    }
  });
});

Deno.test("a v1 SDK client sees the same plain argument errors", async () => {
  await withToolClient(async (ctx) => {
    const client = new ClientV1({ name: "v1", version: "1.0.0" });
    await client.connect(new TransportV1(new URL(`${ctx.server.url}/mcp`)));
    try {
      const answer = await client.callTool({
        name: "text_to_speech",
        arguments: { text: "hi", speed: 10 },
      }) as { isError?: boolean; content: { text?: string }[] };
      assert.equal(answer.isError, true);
      assert.match(answer.content[0]?.text ?? "", /speed must be at most 4 \(got 10\)/);
    } finally {
      await client.close();
    }
  });
});
