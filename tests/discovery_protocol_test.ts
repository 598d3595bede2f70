import { Client as ClientV2, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { ModernClient } from "./helpers/modern_client.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import {
  Client as ClientV1,
  StreamableHTTPClientTransport as StreamableV1,
} from "./helpers/sdk_v1.ts";

Deno.test("completions: endpoint_id completes by prefix and fuzzily, for the prompt and the schema template (2026)", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    try {
      const client = new ModernClient(`${server.url}/mcp`);
      const prompt = await client.request("completion/complete", {
        ref: { type: "ref/prompt", name: "create_media" },
        argument: { name: "endpoint_id", value: "fal-ai/flux" },
      });
      const values = (prompt.result?.completion as { values: string[] }).values;
      assert.ok(values.length >= 2, JSON.stringify(prompt));
      assert.ok(values.every((v) => v.startsWith("fal-ai/flux")), values.join(", "));
      const fuzzy = await client.request("completion/complete", {
        ref: { type: "ref/resource", uri: "fal://models/{+endpoint_id}/schema" },
        argument: { name: "endpoint_id", value: "klingtext" },
      });
      assert.deepEqual(
        (fuzzy.result?.completion as { values: string[] }).values,
        ["fal-ai/kling-video/v2/master/text-to-video"],
      );
      // The name part alone also matches ("flux/dev" without the owner).
      const named = await client.request("completion/complete", {
        ref: { type: "ref/resource", uri: "fal://models/{+endpoint_id}/schema" },
        argument: { name: "endpoint_id", value: "flux/de" },
      });
      assert.equal((named.result?.completion as { values: string[] }).values[0], "fal-ai/flux/dev");
    } finally {
      await server.close();
    }
  });
});

Deno.test("completions: a 2025 client completes endpoint_id through the SDK", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const client = new ClientV1({ name: "complete-v1", version: "1.0.0" });
    try {
      await client.connect(new StreamableV1(new URL(`${server.url}/mcp`)));
      assert.ok(client.getServerCapabilities()?.completions);
      const answer = await client.complete({
        ref: { type: "ref/prompt", name: "create_media" },
        argument: { name: "endpoint_id", value: "wan" },
      });
      assert.ok(
        answer.completion.values.includes("fal-ai/wan-i2v"),
        answer.completion.values.join(),
      );
    } finally {
      await client.close();
      await server.close();
    }
  });
});

Deno.test("recommend_model: ranks endpoints for a task under a price cap, with a reason each", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const client = new ClientV2({ name: "recommend", version: "1.0.0" });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
      const images = await client.callTool({
        name: "recommend_model",
        arguments: { task: "an illustration of a fox", speed: "fast", max_price_usd: 0.05 },
      });
      assert.notEqual(images.isError, true, JSON.stringify(images));
      const structured = images.structuredContent as {
        category: string;
        recommendations: { endpoint_id: string; price_per_run_usd: number; reason: string }[];
      };
      assert.equal(structured.category, "text-to-image");
      assert.ok(structured.recommendations.length >= 1);
      for (const r of structured.recommendations) {
        assert.ok(r.price_per_run_usd <= 0.05, JSON.stringify(r));
        assert.match(r.reason, /per run/);
      }
      assert.equal(structured.recommendations[0]?.endpoint_id, "fal-ai/flux/schnell");

      const video = await client.callTool({
        name: "recommend_model",
        arguments: { task: "a short video clip of waves", max_price_usd: 0.01 },
      });
      assert.match(JSON.stringify(video.content), /No fal model in text-to-video fits/);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

Deno.test("icons and cache hints: the server and every tool have a PNG icon; listings and reads carry the right hints", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    try {
      const client = new ModernClient(`${server.url}/mcp`);
      const discover = await client.request("server/discover");
      assert.equal(discover.result?.cacheScope, "public");
      const info = (discover.result?._meta as Record<string, { icons?: { src: string }[] }>)[
        "io.modelcontextprotocol/serverInfo"
      ];
      assert.match(info?.icons?.[0]?.src ?? "", /^data:image\/png;base64,iVBORw0KGgo/);

      const tools = await client.request("tools/list");
      assert.equal(tools.result?.cacheScope, "public");
      assert.ok(Number(tools.result?.ttlMs) >= 60_000);
      const list = tools.result?.tools as {
        name: string;
        icons?: { src: string; mimeType: string }[];
      }[];
      for (const tool of list) {
        assert.equal(tool.icons?.[0]?.mimeType, "image/png", `${tool.name} has no icon`);
        const bytes = Uint8Array.from(
          atob(tool.icons[0]!.src.split(",")[1]!),
          (c) => c.charCodeAt(0),
        );
        assert.deepEqual(
          [...bytes.slice(0, 4)],
          [0x89, 0x50, 0x4e, 0x47],
          `${tool.name}: not a PNG`,
        );
        assert.ok(bytes.length < 1024, `${tool.name}: icon too large`);
      }

      const templates = await client.request("resources/templates/list");
      assert.equal(templates.result?.cacheScope, "public");
      const schema = await client.request("resources/read", {
        uri: "fal://models/fal-ai/flux/dev/schema",
      });
      assert.equal(schema.result?.cacheScope, "public");
      assert.ok(Number(schema.result?.ttlMs) >= 60_000);

      const submitted = await client.request("tools/call", {
        name: "submit_job",
        arguments: {
          endpoint_id: "fal-ai/flux/dev",
          input: { prompt: "x", fake_duration_ms: 5000 },
          validate: false, // fake_duration_ms is the fake's test hook, not in the schema
        },
      });
      const jobId = (submitted.result?.structuredContent as { job_id: string }).job_id;
      const jobs = await client.request("resources/list");
      assert.equal(jobs.result?.cacheScope, "private");
      assert.ok(Number(jobs.result?.ttlMs) <= 5_000);
      const job = await client.request("resources/read", { uri: `fal://jobs/${jobId}` });
      assert.equal(job.result?.cacheScope, "private");
      assert.ok(Number(job.result?.ttlMs) <= 5_000, JSON.stringify(job.result?.ttlMs));
    } finally {
      await server.close();
    }
  });
});
