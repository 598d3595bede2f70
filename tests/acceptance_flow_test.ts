import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { mainArgs } from "./helpers/process.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import type { ToolAnswer } from "./helpers/tool_client.ts";
import { renderWav } from "./fake_fal/media.ts";
import { withTempDir } from "./helpers/temp_dir.ts";

/**
 * What an LLM client does in a session: discover a model, check its price, generate an image,
 * start a video and check it later, speak, transcribe, upload a local file, keep results locally.
 */
async function flow(client: Client, work: string): Promise<void> {
  const call = async (name: string, args: Record<string, unknown>) => {
    const answer = await client.callTool({ name, arguments: args }, {
      timeout: 60_000,
    }) as ToolAnswer;
    assert.notEqual(answer.isError, true, `${name}: ${JSON.stringify(answer.content)}`);
    return answer;
  };
  const found = await call("search_models", { query: "flux", category: "text-to-image" });
  assert.match(JSON.stringify(found.structuredContent), /fal-ai\/flux\/dev/);
  await call("get_model_schema", { endpoint_id: "fal-ai/flux/dev" });
  const price = await call("get_pricing", { endpoint_ids: ["fal-ai/flux/dev"] });
  assert.match(JSON.stringify(price.structuredContent), /unit_price/);
  await call("estimate_cost", { endpoint_id: "fal-ai/flux/dev", quantity: 4 });

  const image = await call("generate_image", { prompt: "a red fox", save_to: "images" });
  assert.ok(
    (image.structuredContent?.saved_files as string[])[0]?.startsWith(`${work}/out/images/`),
  );

  const video = await call("generate_video", { prompt: "waves at dusk" });
  const jobId = video.structuredContent?.job_id as string;
  const done = await call("get_job", { job_id: jobId, wait_seconds: 30, save_to: "videos" });
  assert.equal(done.structuredContent?.status, "COMPLETED");
  assert.ok((done.structuredContent?.saved_files as string[])[0]?.endsWith(".mp4"));

  const speech = await call("text_to_speech", { text: "Hello from fal" });
  assert.ok(
    speech.content.some((c) => c.type === "resource_link" && /^audio\//.test(c.mimeType ?? "")),
  );

  const wav = `${work}/voice.wav`;
  await Deno.writeFile(wav, renderWav({ durationSeconds: 1, seed: 4, style: "speech" }));
  const uploaded = await call("upload_file", { path: wav });
  const transcript = await call("transcribe_audio", { audio: uploaded.structuredContent?.url });
  assert.match(JSON.stringify(transcript.content), /Transcript:/);
}

Deno.test("acceptance over stdio: discover, price, image, video job, speech, upload, transcript, saved files", async () => {
  await withTempDir(async (work) => {
    await withFakeFal(async (fake) => {
      const client = new Client({ name: "flow-stdio", version: "1.0.0" });
      await client.connect(
        new StdioClientTransport({
          command: Deno.execPath(),
          args: mainArgs("--output-dir", `${work}/out`, "--sync-wait", "0"),
          env: { ...falEnv(fake), NO_COLOR: "1", FAL_MCP_JOB_STORE: "memory" },
          stderr: "pipe",
        }),
      );
      try {
        await flow(client, work);
      } finally {
        await client.close();
      }
    });
  });
});

Deno.test("acceptance over /mcp: the same session against the HTTP server", async () => {
  await withTempDir(async (work) => {
    await withFakeFal(async (fake) => {
      const server = await startTestHttpServer({
        env: falEnv(fake),
        args: ["--output-dir", `${work}/out`, "--sync-wait", "0", "--allow-local-files", work],
      });
      const client = new Client({ name: "flow-http", version: "1.0.0" }, {
        versionNegotiation: { mode: { pin: "2026-07-28" } },
      });
      try {
        await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
        await flow(client, work);
      } finally {
        await client.close();
        await server.close();
      }
    });
  });
});
