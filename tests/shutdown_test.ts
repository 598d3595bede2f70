import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { mainArgs, waitForLogLine } from "./helpers/process.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import type { FakeFal } from "./fake_fal/server.ts";
import type { ToolAnswer } from "./helpers/tool_client.ts";
import { withTempDir } from "./helpers/temp_dir.ts";
import { waitFor } from "./helpers/wait_for.ts";

function spawnServer(fake: FakeFal, stateDir: string, ...args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: mainArgs(
      "--transport",
      "http",
      "--port",
      "0",
      "--job-store",
      "sqlite",
      "--state-dir",
      stateDir,
      ...args,
    ),
    env: { ...falEnv(fake), NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: "shutdown-test", version: "1.0.0" }, {
    versionNegotiation: { mode: { pin: "2026-07-28" } },
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
  return client;
}

Deno.test("SIGTERM during a long call: the call completes, then the process exits 0", async () => {
  await withTempDir(async (dir) => {
    await withFakeFal(async (fake) => {
      const child = spawnServer(fake, dir);
      const stderr = child.stderr.pipeThrough(new TextDecoderStream());
      const lines: string[] = [];
      const stderrBytes = ReadableStream.from(
        (async function* () {
          for await (const chunk of stderr) yield new TextEncoder().encode(chunk);
        })(),
      );
      const listening = await waitForLogLine(stderrBytes, (r) => r.msg === "listening", lines);
      const client = await connect(String(listening.url));
      try {
        const call = client.callTool({
          name: "run_model",
          arguments: {
            endpoint_id: "fal-ai/flux/dev",
            input: { prompt: "x", fake_duration_ms: 1200 },
            validate: false,
          },
        }, { timeout: 30_000 }) as Promise<ToolAnswer>;
        await waitFor(() => fake.state.jobs.size === 1);
        child.kill("SIGTERM");
        const answer = await call;
        assert.notEqual(answer.isError, true, JSON.stringify(answer.content));
        assert.ok(answer.content.some((c) => c.type === "resource_link"));
      } finally {
        await client.close().catch(() => {});
      }
      const status = await child.status;
      await stderrBytes.cancel().catch(() => {});
      await child.stdout.cancel();
      assert.equal(status.code, 0);
    });
  });
});

Deno.test("SIGTERM with no grace: the call answers with its job id, exit 0, and the job survives the restart", async () => {
  await withTempDir(async (dir) => {
    await withFakeFal(async (fake) => {
      const child = spawnServer(fake, dir, "--shutdown-timeout", "0");
      const listening = await waitForLogLine(child.stderr, (r) => r.msg === "listening");
      const url = String(listening.url);
      const client = await connect(url);
      let jobId = "";
      try {
        const call = client.callTool({
          name: "run_model",
          arguments: {
            endpoint_id: "fal-ai/flux/dev",
            input: { prompt: "x", fake_duration_ms: 6000 },
            validate: false,
          },
        }, { timeout: 30_000 }) as Promise<ToolAnswer>;
        await waitFor(() => fake.state.jobs.size === 1);
        jobId = [...fake.state.jobs.keys()][0]!;
        child.kill("SIGTERM");
        // The running call is answered at once with its job and how to fetch it later.
        const answer = await call;
        assert.notEqual(answer.isError, true);
        assert.equal(answer.structuredContent?.job_id, jobId);
        assert.match(JSON.stringify(answer.content), /restarting/);
        assert.match(JSON.stringify(answer.content), /get_job/);
      } finally {
        await client.close().catch(() => {});
      }
      assert.equal((await child.status).code, 0);
      await child.stdout.cancel();
      await child.stderr.cancel().catch(() => {});

      const restarted = spawnServer(fake, dir);
      const again = await waitForLogLine(restarted.stderr, (r) => r.msg === "listening");
      const client2 = await connect(String(again.url));
      try {
        const done = await client2.callTool({
          name: "get_job",
          arguments: { job_id: jobId, wait_seconds: 30 },
        }) as ToolAnswer;
        assert.equal(done.structuredContent?.status, "COMPLETED", JSON.stringify(done.content));
      } finally {
        await client2.close();
        restarted.kill("SIGTERM");
        assert.equal((await restarted.status).code, 0);
        await restarted.stdout.cancel();
        await restarted.stderr.cancel().catch(() => {});
      }
    });
  });
});
