import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { ModernClient, TASKS_CAPABILITIES } from "./helpers/modern_client.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";

/** Polls tasks/get until the task leaves `working` (bounded by count). */
async function pollUntilDone(client: ModernClient, taskId: string) {
  for (let i = 0; i < 200; i++) {
    const answer = await client.request("tasks/get", { taskId });
    assert.equal(answer.error, undefined, JSON.stringify(answer.error));
    const task = answer.result!;
    if (task.status !== "working") return task;
    await new Promise((r) => setTimeout(r, Math.min(Number(task.pollIntervalMs ?? 200), 200)));
  }
  throw new Error(`task ${taskId} did not finish`);
}

Deno.test("tasks extension: a 2026 video call becomes a task, tasks/get reports progress and then the video", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake), args: ["--sync-wait", "0"] });
    try {
      const client = new ModernClient(`${server.url}/mcp`, TASKS_CAPABILITIES);
      const discover = await client.request("server/discover");
      const caps = discover.result?.capabilities as { extensions?: Record<string, unknown> };
      assert.ok(caps.extensions?.["io.modelcontextprotocol/tasks"], "extension not advertised");

      const call = await client.request("tools/call", {
        name: "generate_video",
        arguments: { prompt: "waves at dusk" },
      });
      const created = call.result!;
      assert.equal(created.resultType, "task", JSON.stringify(created));
      assert.equal(created.status, "working");
      assert.equal(typeof created.taskId, "string");
      assert.equal(created.ttlMs, null);
      assert.equal(typeof created.pollIntervalMs, "number");
      assert.match(String(created.statusMessage), /queue|Running/);
      const taskId = String(created.taskId);
      assert.ok(fake.state.jobs.has(taskId), "the task id is the fal job id");

      const done = await pollUntilDone(client, taskId);
      assert.equal(done.status, "completed");
      assert.equal(done.resultType, "complete");
      const result = done.result as { content: { type: string; mimeType?: string }[] };
      assert.ok(
        result.content.some((c) => c.type === "resource_link" && c.mimeType === "video/mp4"),
      );

      // The same job through the job tools.
      const job = await client.request("tools/call", {
        name: "get_job",
        arguments: { job_id: taskId },
      });
      assert.equal((job.result?.structuredContent as { status: string }).status, "COMPLETED");
    } finally {
      await server.close();
    }
  }, { jobDurationMs: 1500 });
});

Deno.test("tasks extension: tasks/cancel from another connection cancels the fal job", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake), args: ["--sync-wait", "0"] });
    try {
      const starter = new ModernClient(`${server.url}/mcp`, TASKS_CAPABILITIES);
      const call = await starter.request("tools/call", {
        name: "run_model",
        arguments: {
          endpoint_id: "fal-ai/flux/dev",
          input: { prompt: "x", fake_duration_ms: 20_000 },
          validate: false,
        },
      });
      assert.equal(call.result?.resultType, "task");
      const taskId = String(call.result?.taskId);

      // Another run (a fresh client, same caller) cancels it.
      const other = new ModernClient(`${server.url}/mcp`, TASKS_CAPABILITIES);
      const cancel = await other.request("tasks/cancel", { taskId });
      assert.equal(cancel.error, undefined, JSON.stringify(cancel.error));
      assert.equal(cancel.result?.resultType, "complete");
      assert.equal(fake.state.jobs.get(taskId)?.cancelled, true);
      const after = await other.request("tasks/get", { taskId });
      assert.equal(after.result?.status, "cancelled");

      // Updates are acknowledged for a known task; unknown ids are invalid params.
      const update = await other.request("tasks/update", { taskId, inputResponses: {} });
      assert.equal(update.result?.resultType, "complete");
      const unknown = await other.request("tasks/get", { taskId: "no-such-task" });
      assert.equal(unknown.error?.code, -32602);
    } finally {
      await server.close();
    }
  });
});

Deno.test("tasks extension: clients that do not declare it get plain results and -32021 on tasks/*", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake), args: ["--sync-wait", "0"] });
    try {
      const plain = new ModernClient(`${server.url}/mcp`);
      const call = await plain.request("tools/call", {
        name: "generate_video",
        arguments: { prompt: "waves" },
      });
      assert.notEqual(call.result?.resultType, "task");
      const structured = call.result?.structuredContent as { job_id: string };
      assert.ok(structured.job_id, JSON.stringify(call.result));
      const get = await plain.request("tasks/get", { taskId: structured.job_id });
      assert.equal(get.error?.code, -32021);
      // The capability is checked before the id: an unknown id says the same.
      for (const method of ["tasks/get", "tasks/cancel", "tasks/update"]) {
        const unknown = await plain.request(method, { taskId: "no-such-task" });
        assert.equal(unknown.error?.code, -32021, method);
      }
    } finally {
      await server.close();
    }
  });
});

Deno.test("tasks extension: another caller's task reads as unknown and is left out of its subscriptions", async () => {
  const tokenA = "token-a-0123456789abcdef0123456789";
  const tokenB = "token-b-0123456789abcdef0123456789";
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({
      env: { ...falEnv(fake), FAL_MCP_AUTH_TOKENS: `${tokenA},${tokenB}` },
      args: ["--sync-wait", "0"],
    });
    const abort = new AbortController();
    try {
      const url = `${server.url}/mcp`;
      const a = new ModernClient(url, TASKS_CAPABILITIES, { authorization: `Bearer ${tokenA}` });
      const b = new ModernClient(url, TASKS_CAPABILITIES, { authorization: `Bearer ${tokenB}` });
      const call = await a.request("tools/call", {
        name: "run_model",
        arguments: {
          endpoint_id: "fal-ai/flux/dev",
          input: { prompt: "x", fake_duration_ms: 5000 },
          validate: false,
        },
      });
      const taskId = String(call.result?.taskId);
      assert.equal(call.result?.resultType, "task");
      for (const method of ["tasks/get", "tasks/cancel", "tasks/update"]) {
        const answer = await b.request(method, { taskId, inputResponses: {} });
        assert.equal(answer.error?.code, -32602, `${method}: ${JSON.stringify(answer)}`);
      }
      assert.equal(fake.state.jobs.get(taskId)?.cancelled, false);
      const listen = await b.open("subscriptions/listen", {
        notifications: { taskIds: [taskId], resourceSubscriptions: [`fal://jobs/${taskId}`] },
      }, abort.signal);
      const text = await listen.text();
      assert.match(text, /"notifications":\{\}/, "nothing of A's is honoured for B");
      assert.equal((await a.request("tasks/get", { taskId })).result?.status, "working");
    } finally {
      abort.abort();
      await server.close();
    }
  });
});
