/**
 * Under a low file-descriptor limit (`ulimit -n 256`) and more concurrent tool calls than it
 * allows, the real server process answers 503 with Retry-After for what it cannot take and
 * stays up: no accept or socket error escapes as an uncaught exception.
 *
 * @module
 */

import assert from "node:assert/strict";
import { listeningAndDrained, mainArgs } from "./helpers/process.ts";
import { modernRequest } from "./helpers/raw_mcp.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";

const CALLS = 400;
/** Descriptors an idle server may hold after the burst: its own, plus a few pooled connections. */
const IDLE_FDS_CAP = 80;

Deno.test("with ulimit -n 256 and 400 concurrent tool calls the server answers 503 with Retry-After and stays up", async () => {
  await withFakeFal(async (fake) => {
    const quoted = mainArgs("--transport", "http", "--host", "127.0.0.1", "--port", "0")
      .map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
    const child = new Deno.Command("bash", {
      args: ["-c", `ulimit -n 256 && exec '${Deno.execPath()}' ${quoted}`],
      env: { ...falEnv(fake), FAL_MCP_JOB_STORE: "memory", NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const { url, drained: drain } = await listeningAndDrained(child.stderr);
    try {
      const outcomes = await Promise.all(Array.from({ length: CALLS }, async (_, i) => {
        const { body, headers } = modernRequest("tools/call", {
          name: "run_model",
          arguments: {
            endpoint_id: "fal-ai/flux/dev",
            input: { prompt: `fox ${i}`, fake_duration_ms: 1500 },
            validate: false,
          },
        }, i);
        try {
          const res = await fetch(`${url}/mcp`, {
            method: "POST",
            headers,
            body: JSON.stringify(body),
          });
          const retryAfter = res.headers.get("retry-after");
          await res.body?.cancel();
          return res.status === 503 && Number(retryAfter) >= 1 ? "503" : String(res.status);
        } catch {
          return "reset"; // refused at the socket while the server was out of descriptors
        }
      }));
      const counts: Record<string, number> = {};
      for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
      assert.ok((counts["503"] ?? 0) > 0, `no 503 with Retry-After: ${JSON.stringify(counts)}`);
      assert.ok((counts["200"] ?? 0) > 0, `no call was served: ${JSON.stringify(counts)}`);
      for (const outcome of Object.keys(counts)) {
        assert.ok(["200", "503", "reset"].includes(outcome), `unexpected ${outcome}`);
      }
      // Still up and serving.
      let health = 0;
      for (let attempt = 0; attempt < 50 && health !== 200; attempt++) {
        try {
          const res = await fetch(`${url}/health`);
          health = res.status;
          await res.body?.cancel();
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      assert.equal(health, 200, "the server did not answer /health after the burst");
      // Calls whose clients were reset still finish their work (a submit already sent is
      // completed and then cancelled, so no paid job is lost): admission frees up after them.
      const { body, headers } = modernRequest("tools/list");
      let listed = 0;
      for (let attempt = 0; attempt < 300 && listed !== 200; attempt++) {
        try {
          const res = await fetch(`${url}/mcp`, {
            method: "POST",
            headers,
            body: JSON.stringify(body),
          });
          listed = res.status;
          await res.body?.cancel();
        } catch {
          listed = 0; // refused at the socket while descriptors are still taken
        }
        if (listed !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(listed, 200);
      // Idle connections to fal do not pile up after the burst: the pool keeps only a few.
      let open = Number.POSITIVE_INFINITY;
      for (let attempt = 0; attempt < 300 && open > IDLE_FDS_CAP; attempt++) {
        open = [...Deno.readDirSync(`/proc/${child.pid}/fd`)].length;
        if (open > IDLE_FDS_CAP) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(open <= IDLE_FDS_CAP, `${open} descriptors still open after the burst`);
    } finally {
      child.kill("SIGTERM");
      const status = await child.status;
      await drain;
      assert.equal(status.code, 0, "the server did not exit cleanly");
    }
  });
});
