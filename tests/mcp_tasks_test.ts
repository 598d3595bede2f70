import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableV2,
} from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import { Client, StreamableHTTPClientTransport } from "./helpers/sdk_v1.ts";
import type { FakeFal } from "./fake_fal/server.ts";

const LONG_TOOLS = [
  "edit_image",
  "generate_image",
  "generate_music",
  "generate_video",
  "remove_background",
  "run_model",
  "text_to_speech",
  "transcribe_audio",
  "upscale_image",
];

/** A v1 client (it speaks MCP tasks) connected over a 2025-11-25 session to the real server. */
async function withTaskClient(fn: (client: Client, fake: FakeFal) => Promise<void>): Promise<void> {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const client = new Client({ name: "tasks-test", version: "1.0.0" });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
      await fn(client, fake);
    } finally {
      await client.close();
      await server.close();
    }
  });
}

Deno.test("MCP tasks: a 2025-11-25 client runs generate_video as a task and gets the video", async () => {
  await withTaskClient(async (client, fake) => {
    assert.ok(client.getServerCapabilities()?.tasks?.requests?.tools?.call);
    const { tools } = await client.listTools();
    const taskTools = tools.filter((t) => t.execution?.taskSupport === "optional").map((t) =>
      t.name
    );
    assert.deepEqual(taskTools.sort(), LONG_TOOLS);

    const kinds: string[] = [];
    let taskId = "";
    let result: { content: { type: string; mimeType?: string }[] } | undefined;
    for await (
      const message of client.experimental.tasks.callToolStream({
        name: "generate_video",
        arguments: { prompt: "waves at dusk" },
      })
    ) {
      kinds.push(message.type);
      if (message.type === "taskCreated") taskId = message.task.taskId;
      if (message.type === "result") result = message.result as typeof result;
      if (message.type === "error") throw message.error;
    }
    assert.equal(kinds[0], "taskCreated");
    assert.equal(kinds.at(-1), "result");
    assert.ok(fake.state.jobs.has(taskId), "the task id is the fal job id");
    assert.ok(
      result?.content.some((c) => c.type === "resource_link" && c.mimeType === "video/mp4"),
    );

    // The same job is visible through the job tools and tasks/list.
    const job = await client.callTool({ name: "get_job", arguments: { job_id: taskId } });
    assert.equal((job.structuredContent as { status: string }).status, "COMPLETED");
    const listed = await client.experimental.tasks.listTasks();
    assert.ok(listed.tasks.some((t) => t.taskId === taskId && t.status === "completed"));
  });
});

Deno.test("MCP tasks: tasks/cancel cancels the fal job; a finished task cannot be cancelled", async () => {
  await withTaskClient(async (client, fake) => {
    await client.listTools();
    const stream = client.experimental.tasks.callToolStream({
      name: "run_model",
      arguments: {
        endpoint_id: "fal-ai/flux/dev",
        input: { prompt: "x", fake_duration_ms: 20_000 },
        validate: false,
      },
    });
    const first = await stream.next();
    assert.equal(first.value?.type, "taskCreated");
    const taskId = first.value?.type === "taskCreated" ? first.value.task.taskId : "";
    await stream.return(undefined);
    const cancelled = await client.experimental.tasks.cancelTask(taskId);
    assert.equal(cancelled.status, "cancelled");
    assert.equal(fake.state.jobs.get(taskId)?.cancelled, true);
    await assert.rejects(client.experimental.tasks.cancelTask(taskId), /Cannot cancel task/);
    await assert.rejects(client.experimental.tasks.getTask("no-such-task"), /Unknown job id/);
  });
});

Deno.test("MCP tasks: an invalid task-augmented call is refused before anything is submitted", async () => {
  await withTaskClient(async (client, fake) => {
    await client.listTools();
    const messages = [];
    for await (
      const message of client.experimental.tasks.callToolStream({
        name: "generate_image",
        arguments: { prompt: "x", model: "fal-ai/flux-pro/kontext" },
      })
    ) messages.push(message);
    assert.equal(messages[0]?.type, "error");
    assert.match(String((messages[0] as { error: Error }).error.message), /image_url is required/);
    assert.equal(fake.state.jobs.size, 0);
  });
});

Deno.test("MCP tasks: 2026-07-28 clients see plain tools (no task vocabulary) and calls still work", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const client = new ClientV2({ name: "modern", version: "1.0.0" }, {
      versionNegotiation: { mode: { pin: "2026-07-28" } },
    });
    try {
      await client.connect(new StreamableV2(new URL(`${server.url}/mcp`)));
      const { tools } = await client.listTools();
      assert.ok(tools.every((t) => !("execution" in t)));
      const answer = await client.callTool({ name: "generate_image", arguments: { prompt: "x" } });
      assert.notEqual(answer.isError, true);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
