import assert from "node:assert/strict";
import { withToolClient } from "./helpers/tool_client.ts";

Deno.test("resources: fal://jobs/{job_id} is listed and read as JSON with the result", async () => {
  await withToolClient(async (ctx) => {
    const ran = await ctx.call("run_model", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "x" },
    });
    const jobId = ran.structuredContent?.job_id as string;
    const { resources } = await ctx.client.listResources();
    const uri = `fal://jobs/${jobId}`;
    assert.ok(resources.some((r) => r.uri === uri), JSON.stringify(resources));
    const read = await ctx.client.readResource({ uri });
    const content = read.contents[0] as { mimeType?: string; text: string };
    assert.equal(content.mimeType, "application/json");
    const body = JSON.parse(content.text);
    assert.equal(body.job_id, jobId);
    assert.equal(body.status, "COMPLETED");
    assert.ok(body.result.images[0].url);
  });
});

Deno.test("resources: fal://models/{endpoint_id}/schema reads a model's schemas; templates are listed", async () => {
  await withToolClient(async (ctx) => {
    const { resourceTemplates } = await ctx.client.listResourceTemplates();
    const templates = resourceTemplates.map((t) => t.uriTemplate).sort();
    assert.deepEqual(templates, ["fal://jobs/{job_id}", "fal://models/{+endpoint_id}/schema"]);
    const read = await ctx.client.readResource({ uri: "fal://models/fal-ai/flux/dev/schema" });
    const body = JSON.parse((read.contents[0] as { text: string }).text);
    assert.equal(body.endpoint_id, "fal-ai/flux/dev");
    assert.ok("prompt" in body.input_schema.properties);
  });
});

Deno.test("resources: reading an unknown job is an error, not an empty document", async () => {
  await withToolClient(async (ctx) => {
    await assert.rejects(ctx.client.readResource({ uri: "fal://jobs/nope" }), /Unknown job id/);
  });
});
