import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import type { FakeFal } from "./fake_fal/server.ts";

interface TextResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

async function withClient(
  fn: (
    call: (name: string, args: Record<string, unknown>) => Promise<TextResult>,
    fake: FakeFal,
  ) => Promise<void>,
  env: (fake: FakeFal) => Record<string, string> = falEnv,
): Promise<void> {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: env(fake) });
    const client = new Client({ name: "discovery-test", version: "1.0.0" }, {
      versionNegotiation: { mode: { pin: "2026-07-28" } },
    });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
      await fn(
        async (name, args) => await client.callTool({ name, arguments: args }) as TextResult,
        fake,
      );
    } finally {
      await client.close();
      await server.close();
    }
  });
}

Deno.test("search_models finds models by text and lists their endpoint ids", async () => {
  await withClient(async (call) => {
    const result = await call("search_models", { query: "flux" });
    assert.notEqual(result.isError, true);
    const text = result.content[0]!.text!;
    assert.match(text, /fal-ai\/flux\/dev — FLUX\.1 \[dev\] \[text-to-image\]/);
    const models = result.structuredContent!.models as { endpoint_id: string }[];
    assert.ok(models.every((m) => /flux/i.test(JSON.stringify(m))));
  });
});

Deno.test("search_models filters by category and pages with a cursor", async () => {
  await withClient(async (call) => {
    const speech = await call("search_models", { category: "text-to-speech" });
    const ids = (speech.structuredContent!.models as { endpoint_id: string }[]).map((m) =>
      m.endpoint_id
    );
    assert.deepEqual(ids, ["fal-ai/kokoro/american-english"]);

    const first = await call("search_models", { limit: 2 });
    assert.equal(first.structuredContent!.has_more, true);
    const cursor = first.structuredContent!.next_cursor as string;
    assert.match(first.content[0]!.text!, new RegExp(`cursor "${cursor}"`));
    const second = await call("search_models", { limit: 2, cursor });
    const page1 = (first.structuredContent!.models as { endpoint_id: string }[]).map((m) =>
      m.endpoint_id
    );
    const page2 = (second.structuredContent!.models as { endpoint_id: string }[]).map((m) =>
      m.endpoint_id
    );
    assert.equal(page2.length, 2);
    assert.ok(page2.every((id) => !page1.includes(id)), "the second page repeats the first");
  });
});

Deno.test("search_models works without FAL_KEY (the catalogue is public)", async () => {
  await withClient(async (call) => {
    const result = await call("search_models", { query: "whisper" });
    assert.notEqual(result.isError, true);
    assert.match(result.content[0]!.text!, /fal-ai\/whisper/);
  }, (fake) => ({ FAL_BASE_URL: fake.url }));
});

Deno.test("search_models with nothing matching says so", async () => {
  await withClient(async (call) => {
    const result = await call("search_models", { query: "no-such-model-anywhere" });
    assert.notEqual(result.isError, true);
    assert.match(result.content[0]!.text!, /No models found for "no-such-model-anywhere"/);
  });
});

Deno.test("search_models rejects an out-of-range limit with a clear validation error", async () => {
  await withClient(async (call) => {
    const result = await call("search_models", { limit: 500 });
    assert.equal(result.isError, true);
    assert.match(result.content[0]!.text!, /limit/);
  });
});

Deno.test("get_model_schema describes inputs (required, defaults, enums) and outputs", async () => {
  await withClient(async (call) => {
    const result = await call("get_model_schema", { endpoint_id: "fal-ai/flux/dev" });
    assert.notEqual(result.isError, true);
    const text = result.content[0]!.text!;
    assert.match(text, /^fal-ai\/flux\/dev — FLUX\.1 \[dev\]/);
    assert.match(text, /- prompt \(string, required\)/);
    assert.match(text, /- image_size \([^)]*"square_hd"/);
    assert.match(text, /Output:\n- images/);
    const input = result.structuredContent!.input_schema as { properties: Record<string, unknown> };
    assert.ok("prompt" in input.properties);
    assert.ok(!JSON.stringify(input).includes("$ref"), "refs are resolved");
  });
});

Deno.test("get_model_schema for an unknown endpoint says so and points to search_models", async () => {
  await withClient(async (call) => {
    const result = await call("get_model_schema", { endpoint_id: "nobody/nothing" });
    assert.equal(result.isError, true);
    assert.match(result.content[0]!.text!, /Unknown endpoint id "nobody\/nothing".*search_models/);
  });
});

Deno.test("get_model_schema reports fal's own schema expansion failure", async () => {
  await withClient(async (call) => {
    const result = await call("get_model_schema", { endpoint_id: "fal-ai/stable-diffusion-v15" });
    assert.equal(result.isError, true);
    assert.match(result.content[0]!.text!, /no schema for fal-ai\/stable-diffusion-v15/);
  });
});

Deno.test("run_model returns video as a resource link with type and size", async () => {
  await withClient(async (call, fake) => {
    const result = await call("run_model", {
      endpoint_id: "fal-ai/kling-video/v2/master/text-to-video",
      input: { prompt: "waves at dusk", duration: "5" },
    });
    assert.notEqual(result.isError, true, JSON.stringify(result.content));
    const link = result.content.find((c) => c.type === "resource_link") as
      | { uri: string; mimeType?: string; size?: number }
      | undefined;
    assert.ok(link);
    assert.equal(link.mimeType, "video/mp4");
    const video = await fetch(link.uri);
    const bytes = new Uint8Array(await video.arrayBuffer());
    assert.equal(new TextDecoder().decode(bytes.slice(4, 8)), "ftyp");
    assert.equal(link.size, bytes.length);
    assert.equal(fake.state.jobs.size, 1);
  });
});
