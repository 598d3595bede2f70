/**
 * SIGTERM answers every waiting request: a `tasks/result` waiting on a long job gets an error
 * that says the job goes on, instead of a stream that just ends.
 *
 * @module
 */

import assert from "node:assert/strict";
import { listeningAndDrained, mainArgs } from "./helpers/process.ts";
import { openSession, post, readMessage, sessionHeaders } from "./helpers/raw_mcp.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import { waitFor } from "./helpers/wait_for.ts";

const VERSION = "2025-11-25";

Deno.test("SIGTERM answers a waiting tasks/result with an error naming the job, then exits 0", async () => {
  await withFakeFal(async (fake) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: mainArgs("--transport", "http", "--port", "0", "--shutdown-timeout", "0"),
      env: { ...falEnv(fake), FAL_MCP_JOB_STORE: "memory", NO_COLOR: "1" },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const { url, drained: drain } = await listeningAndDrained(child.stderr);
    const mcp = `${url}/mcp`;
    try {
      const session = await openSession(mcp, VERSION);
      const headers = sessionHeaders(session, VERSION);
      const created = await post(mcp, {
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: {
          name: "run_model",
          arguments: {
            endpoint_id: "fal-ai/flux/dev",
            input: { prompt: "a slow owl", fake_duration_ms: 60_000 },
            validate: false,
          },
          task: { ttl: 600_000 },
        },
      }, headers);
      const task = await readMessage<{ result: { task: { taskId: string } } }>(created);
      const taskId = task.result.task.taskId;
      assert.ok(fake.state.jobs.has(taskId));

      const waiting = post(mcp, {
        jsonrpc: "2.0",
        id: 2,
        method: "tasks/result",
        params: { taskId },
      }, headers);
      // Give the request time to reach its wait: the job is followed by the server.
      await waitFor(() => fake.state.jobs.get(taskId) !== undefined, "the job at fal");
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.kill("SIGTERM");
      const answer = await readMessage<{ id: number; error?: { message: string } }>(await waiting);
      assert.equal(answer.id, 2);
      assert.ok(answer.error, `expected an error, got ${JSON.stringify(answer)}`);
      assert.match(answer.error.message, /restarting/);
      assert.ok(answer.error.message.includes(taskId));
    } finally {
      const status = await child.status;
      await drain;
      assert.equal(status.code, 0);
    }
  });
});
