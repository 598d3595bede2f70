/**
 * Every tool declares an `outputSchema`, and what it answers in `structuredContent` conforms to
 * it (checked with an independent JSON Schema validator, as a strict client would), and
 * `tools/list` stays lean enough for a model's context.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import {
  allText,
  type ToolAnswer,
  type ToolContext,
  withToolClient,
} from "./helpers/tool_client.ts";
import { renderPng, renderWav } from "./fake_fal/media.ts";

Deno.test("every tool's structuredContent conforms to its declared outputSchema", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(
      `${dir}/photo.png`,
      renderPng({ width: 32, height: 32, seed: 3 }),
    );
    await Deno.writeFile(
      `${dir}/speech.wav`,
      renderWav({ durationSeconds: 1, seed: 2, style: "speech" }),
    );
    await withToolClient(async (ctx) => {
      const { tools } = await ctx.client.listTools();
      const ajv = new Ajv2020({ strict: false, allErrors: true });
      const validators = new Map(tools.map((t) => {
        assert.ok(t.outputSchema, `${t.name} declares no outputSchema`);
        return [t.name, ajv.compile(t.outputSchema)] as const;
      }));
      const checked = new Set<string>();
      const check = async (
        name: string,
        args: Record<string, unknown>,
      ): Promise<ToolAnswer> => {
        const answer = await ctx.call(name, args);
        assert.notEqual(answer.isError, true, `${name}: ${allText(answer)}`);
        assert.ok(
          answer.structuredContent,
          `${name} answered no structuredContent`,
        );
        const validate = validators.get(name)!;
        assert.ok(
          validate(answer.structuredContent),
          `${name}: ${ajv.errorsText(validate.errors)}`,
        );
        checked.add(name);
        return answer;
      };

      const upload = await check("upload_file", { path: `${dir}/photo.png` });
      const image = upload.structuredContent!.url as string;
      const audio = (await check("upload_file", { path: `${dir}/speech.wav` }))
        .structuredContent!.url as string;
      await check("generate_image", { prompt: "a fox", count: 2 });
      await check("edit_image", { image, instruction: "make it blue" });
      await check("remove_background", { image });
      await check("upscale_image", { image, scale: 2 });
      await check("generate_video", { prompt: "waves" });
      await check("generate_music", { prompt: "piano" });
      await check("text_to_speech", { text: "hello" });
      await check("transcribe_audio", { audio });
      await check("search_models", { query: "flux" });
      await check("get_model_schema", { endpoint_id: "fal-ai/flux/dev" });
      await check("run_model", {
        endpoint_id: "fal-ai/flux/schnell",
        input: { prompt: "x" },
      });
      const slow = await check("submit_job", {
        endpoint_id: "fal-ai/flux/dev",
        input: { prompt: "slow", fake_duration_ms: 20_000 },
        validate: false,
      });
      const jobId = slow.structuredContent!.job_id as string;
      await check("get_job", { job_id: jobId });
      await check("list_jobs", {});
      await check("cancel_job", { job_id: jobId });
      await check("get_pricing", {
        endpoint_ids: ["fal-ai/flux/dev", "fal-ai/flux"],
      });
      await check("estimate_cost", {
        endpoint_id: "fal-ai/flux/dev",
        quantity: 3,
      });
      await check("get_usage", { start: "2020-01-01" });
      await check("recommend_model", { task: "a photo of a fox" });
      // The app-only tools of the media view.
      await check("media_job", { job_id: jobId });
      const done = await check("run_model", {
        endpoint_id: "fal-ai/flux/schnell",
        input: { prompt: "y" },
      });
      const url = ((done.structuredContent!.result as { images: { url: string }[] })
        .images[0])!.url;
      await check("media_action", {
        job_id: String(done.structuredContent!.job_id),
        url,
        action: "upscale",
      });

      assert.deepEqual(
        [...checked].sort(),
        tools.map((t) => t.name).sort(),
        "every tool",
      );
    }, {
      fake: { jobDurationMs: 0, queueSteps: 0 },
      args: ["--allow-local-files", dir],
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a running job's answer conforms to the outputSchema too", async () => {
  await withToolClient(async (ctx) => {
    const { tools } = await ctx.client.listTools();
    const schema = tools.find((t) => t.name === "generate_video")!
      .outputSchema!;
    const validate = new Ajv2020({ strict: false }).compile(schema);
    const answer = await ctx.call("generate_video", { prompt: "waves" });
    assert.equal(answer.structuredContent?.status, "IN_QUEUE");
    assert.ok(validate(answer.structuredContent));
  }, { args: ["--sync-wait", "0"] });
});

Deno.test("a cost confirmation answer (no job yet) conforms to the outputSchema too", async () => {
  await withToolClient(async (ctx) => {
    const { tools } = await ctx.client.listTools();
    const ajv = new Ajv2020({ strict: false });
    const video = "fal-ai/kling-video/v2/master/text-to-video"; // about $1.68 a call at the fake
    for (
      const [name, args] of [
        ["run_model", { endpoint_id: video, input: { prompt: "waves" } }],
        ["submit_job", { endpoint_id: video, input: { prompt: "waves" } }],
        ["generate_video", { prompt: "waves" }],
      ] as const
    ) {
      const validate = ajv.compile(
        tools.find((t) => t.name === name)!.outputSchema!,
      );
      const answer = await ctx.call(name, args);
      assert.notEqual(answer.isError, true, `${name}: ${allText(answer)}`);
      assert.equal(
        answer.structuredContent?.status,
        "confirmation_required",
        name,
      );
      assert.equal(
        typeof answer.structuredContent?.confirm_token,
        "string",
        name,
      );
      assert.ok(
        validate(answer.structuredContent),
        `${name}: ${ajv.errorsText(validate.errors)}`,
      );
    }
  }, { args: ["--confirm-above-usd", "1"] });
});

/** A tool as listed. */
type Tool = Awaited<
  ReturnType<ToolContext["client"]["listTools"]>
>["tools"][number];

/** The tools a model is offered, as listed (app-only tools are called by the media view only). */
function modelTools(tools: Tool[]): Tool[] {
  return tools.filter((t) => !isAppOnly(t));
}

Deno.test("tools/list stays lean: the listing is under 3,750 tokens, what a model reads under 2,550", async () => {
  await withToolClient(async (ctx) => {
    const { tools } = await ctx.client.listTools();
    // Icons and `_meta` (the media view's link) are for the client's UI, not the model's context.
    const listing = JSON.stringify(
      modelTools(tools).map(({ icons: _, _meta: __, ...rest }) => rest),
    );
    // What clients put in a model's tool definitions: name, description and input schema
    // (titles, annotations, execution and output schemas stay with the client).
    const offered = JSON.stringify(
      modelTools(tools).map(({ name, description, inputSchema }) => ({
        name,
        description,
        inputSchema,
      })),
    );
    // The listing was ~5.2k tokens for 19 tools, then 4,269 (17,074 characters) for 20; now
    // 3,687 (14,748), of which a model reads 2,498 (9,993).
    assert.ok(
      listing.length / 4 < 3750,
      `tools/list is ${Math.round(listing.length / 4)} tokens (${listing.length} characters)`,
    );
    assert.ok(
      offered.length / 4 < 2550,
      `a model reads ${Math.round(offered.length / 4)} tokens (${offered.length} characters)`,
    );
    // What a model needs stays: allowed values are in the descriptions too (for clients that
    // drop `enum`), and nothing asks for what a model cannot do.
    for (const tool of modelTools(tools)) {
      const properties = (tool.inputSchema.properties ?? {}) as Record<
        string,
        { enum?: unknown[]; description?: string }
      >;
      for (const [name, property] of Object.entries(properties)) {
        for (const value of property.enum ?? []) {
          assert.ok(
            property.description?.includes(String(value)),
            `${tool.name}.${name}: ${value} is not named in its description`,
          );
        }
      }
      assert.doesNotMatch(JSON.stringify(tool), /progressToken/i, tool.name);
    }
  });
});

/** Which listed tools take `argument`. */
function toolsTaking(tools: Tool[], argument: string): string[] {
  return modelTools(tools).filter((t) => argument in (t.inputSchema.properties ?? {}))
    .map((t) => t.name).sort();
}

Deno.test("save_to and confirm_token are listed only where the server acts on them, and still accepted when sent", async () => {
  const paid = [
    "edit_image",
    "generate_image",
    "generate_music",
    "generate_video",
    "remove_background",
    "run_model",
    "submit_job",
    "text_to_speech",
    "transcribe_audio",
    "upscale_image",
  ];
  await withToolClient(async (ctx) => {
    const { tools } = await ctx.client.listTools();
    assert.deepEqual(
      toolsTaking(tools, "save_to"),
      [],
      "HTTP without --output-dir",
    );
    assert.deepEqual(
      toolsTaking(tools, "confirm_token"),
      [],
      "without --confirm-above-usd",
    );
    // Sent anyway, they are judged as before: save_to is refused with its reason, a stray
    // confirm_token changes nothing.
    const saved = await ctx.call("generate_image", {
      prompt: "a fox",
      save_to: "foxes",
    });
    assert.equal(saved.isError, true);
    assert.match(allText(saved), /save_to is not available/);
    const run = await ctx.call("generate_image", {
      prompt: "a fox",
      confirm_token: "stray",
    });
    assert.notEqual(run.isError, true, allText(run));
    assert.equal(run.structuredContent?.status, "COMPLETED");
  });
  const dir = await Deno.makeTempDir();
  try {
    await withToolClient(async (ctx) => {
      const { tools } = await ctx.client.listTools();
      assert.deepEqual(
        toolsTaking(tools, "save_to"),
        [...paid.filter((n) => n !== "submit_job"), "get_job"].sort(),
      );
      assert.deepEqual(toolsTaking(tools, "confirm_token"), paid);
    }, { args: ["--output-dir", dir, "--confirm-above-usd", "1"] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function isAppOnly(
  tool: { _meta?: Record<string, unknown> | undefined },
): boolean {
  const ui = tool._meta?.ui as { visibility?: unknown } | undefined;
  return Array.isArray(ui?.visibility) && ui.visibility.length === 1 &&
    ui.visibility[0] === "app";
}
