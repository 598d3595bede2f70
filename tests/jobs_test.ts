import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { falEnv, TEST_FAL_KEY, withFakeFal } from "./helpers/scenario.ts";
import { allText, textOf, type ToolAnswer, withToolClient } from "./helpers/tool_client.ts";
import type { FakeFal } from "./fake_fal/server.ts";
import { withTempDir } from "./helpers/temp_dir.ts";
import { waitFor } from "./helpers/wait_for.ts";

Deno.test("submit_job answers at once with a job id; get_job waits and returns the result", async () => {
  await withToolClient(async (ctx) => {
    const submitted = await ctx.call("submit_job", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "a fox", fake_duration_ms: 4000 },
      validate: false,
    });
    assert.notEqual(submitted.isError, true, allText(submitted));
    const jobId = submitted.structuredContent?.job_id as string;
    assert.ok(ctx.fake.state.jobs.has(jobId));
    assert.match(textOf(submitted), new RegExp(`get_job \\{"job_id": "${jobId}"`));

    const early = await ctx.call("get_job", { job_id: jobId });
    assert.match(String(early.structuredContent?.status), /IN_QUEUE|IN_PROGRESS/);
    assert.match(textOf(early), /keeps running on fal/);

    const done = await ctx.call("get_job", { job_id: jobId, wait_seconds: 30 });
    assert.equal(done.structuredContent?.status, "COMPLETED");
    assert.ok(done.content.some((c) => c.type === "resource_link"));
  });
});

Deno.test("a finished job's result is fetched and kept without anyone asking", async () => {
  await withToolClient(async (ctx) => {
    const submitted = await ctx.call("submit_job", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "a fox" },
    });
    const jobId = submitted.structuredContent?.job_id as string;
    const resultPath = `/queue/fal-ai/flux/requests/${jobId}`;
    await waitFor(() =>
      ctx.fake.state.requests.some((r) => r.path === resultPath && r.status === 200)
    );
    // fal has answered the result; the record is written right after (wait for that, not fal).
    const done = await ctx.call("get_job", { job_id: jobId, wait_seconds: 30 });
    assert.equal(done.structuredContent?.status, "COMPLETED");
    const reads = ctx.fake.state.requests.filter((r) => r.path === resultPath);
    assert.equal(reads.length, 1, "get_job answered from the kept result, not from fal");
  });
});

Deno.test("list_jobs lists jobs newest first, filters by status and model, and pages", async () => {
  await withToolClient(async (ctx) => {
    const ids: string[] = [];
    for (const endpoint of ["fal-ai/flux/dev", "fal-ai/flux/schnell", "fal-ai/flux/dev"]) {
      const answer = await ctx.call("submit_job", {
        endpoint_id: endpoint,
        input: { prompt: "x" },
      });
      ids.push(answer.structuredContent?.job_id as string);
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct submit times
    }
    const all = await ctx.call("list_jobs", {});
    const listed = (all.structuredContent?.jobs as { job_id: string }[]).map((j) => j.job_id);
    assert.deepEqual(listed, [...ids].reverse());

    const schnell = await ctx.call("list_jobs", { endpoint_id: "fal-ai/flux/schnell" });
    assert.deepEqual(
      (schnell.structuredContent?.jobs as { job_id: string }[]).map((j) => j.job_id),
      [ids[1]],
    );

    const first = await ctx.call("list_jobs", { limit: 2 });
    const cursor = first.structuredContent?.next_cursor as string;
    assert.ok(cursor);
    const second = await ctx.call("list_jobs", { limit: 2, cursor });
    assert.deepEqual(
      (second.structuredContent?.jobs as { job_id: string }[]).map((j) => j.job_id),
      [ids[0]],
    );

    for (const id of ids) await ctx.call("get_job", { job_id: id, wait_seconds: 30 });
    const completed = await ctx.call("list_jobs", { status: "COMPLETED" });
    assert.equal((completed.structuredContent?.jobs as unknown[]).length, 3);
    const queued = await ctx.call("list_jobs", { status: "IN_QUEUE" });
    assert.equal((queued.structuredContent?.jobs as unknown[]).length, 0);
  });
});

Deno.test("cancel_job cancels a running job; get_job then reports it cancelled", async () => {
  await withToolClient(async (ctx) => {
    const submitted = await ctx.call("submit_job", {
      endpoint_id: "fal-ai/kling-video/v2/master/text-to-video",
      input: { prompt: "waves", fake_duration_ms: 20_000 },
      validate: false,
    });
    const jobId = submitted.structuredContent?.job_id as string;
    const cancelled = await ctx.call("cancel_job", { job_id: jobId });
    assert.notEqual(cancelled.isError, true, allText(cancelled));
    assert.equal(cancelled.structuredContent?.outcome, "CANCELLATION_REQUESTED");
    assert.equal(ctx.fake.state.jobs.get(jobId)?.cancelled, true);
    const after = await ctx.call("get_job", { job_id: jobId, wait_seconds: 30 });
    assert.equal(after.structuredContent?.status, "CANCELLED");
    const again = await ctx.call("cancel_job", { job_id: jobId });
    assert.match(textOf(again), /already finished/);
  });
});

Deno.test("get_job and cancel_job on an unknown job id answer a clear error", async () => {
  await withToolClient(async (ctx) => {
    for (const tool of ["get_job", "cancel_job"]) {
      const answer = await ctx.call(tool, { job_id: "no-such-job" });
      assert.equal(answer.isError, true);
      assert.match(textOf(answer), /Unknown job id "no-such-job".*list_jobs/);
    }
  });
});

Deno.test("a job that fails at fal is reported as FAILED with fal's reason", async () => {
  await withToolClient(async (ctx) => {
    const answer = await ctx.call("run_model", {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "x", fake_fail: "model_error" },
      validate: false,
    });
    assert.equal(answer.isError, true);
    assert.match(textOf(answer), /failed: /);
    const list = await ctx.call("list_jobs", { status: "FAILED" });
    assert.equal((list.structuredContent?.jobs as unknown[]).length, 1);
  });
});

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: "restart-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
  return client;
}

async function callOn(client: Client, name: string, args: Record<string, unknown>) {
  return await client.callTool({ name, arguments: args }, { timeout: 60_000 }) as ToolAnswer;
}

function serverOptions(fake: FakeFal, dir: string) {
  return { env: falEnv(fake), args: ["--job-store", "sqlite", "--state-dir", dir] };
}

Deno.test("restart: a job submitted before a restart is followed again and get_job returns its result", async () => {
  await withTempDir(async (dir) => {
    await withFakeFal(async (fake) => {
      let server = await startTestHttpServer(serverOptions(fake, dir));
      let client = await connect(server.url);
      const submitted = await callOn(client, "submit_job", {
        endpoint_id: "fal-ai/kling-video/v2/master/text-to-video",
        input: { prompt: "waves", fake_duration_ms: 1500 },
        validate: false,
      });
      const jobId = submitted.structuredContent?.job_id as string;
      await client.close();
      await server.close();

      server = await startTestHttpServer(serverOptions(fake, dir));
      client = await connect(server.url);
      try {
        const done = await callOn(client, "get_job", { job_id: jobId, wait_seconds: 30 });
        assert.equal(done.structuredContent?.status, "COMPLETED", allText(done));
        assert.ok(
          done.content.some((c) => c.type === "resource_link" && c.mimeType === "video/mp4"),
        );
        const listed = await callOn(client, "list_jobs", {});
        assert.equal((listed.structuredContent?.jobs as { job_id: string }[])[0]?.job_id, jobId);
      } finally {
        await client.close();
        await server.close();
      }
    });
  });
});

Deno.test("restart: a job that finished while the server was down has its result fetched on start", async () => {
  await withTempDir(async (dir) => {
    await withFakeFal(async (fake) => {
      let server = await startTestHttpServer(serverOptions(fake, dir));
      let client = await connect(server.url);
      const submitted = await callOn(client, "submit_job", {
        endpoint_id: "fal-ai/flux/dev",
        input: { prompt: "a fox", fake_duration_ms: 600 },
        validate: false,
      });
      const jobId = submitted.structuredContent?.job_id as string;
      await client.close();
      await server.close();
      await waitFor(() => fake.state.jobs.get(jobId)?.status === "COMPLETED");

      server = await startTestHttpServer(serverOptions(fake, dir));
      const resultPath = `/queue/fal-ai/flux/requests/${jobId}`;
      await waitFor(() =>
        fake.state.requests.some((r) => r.path === resultPath && r.status === 200)
      );
      client = await connect(server.url);
      try {
        const done = await callOn(client, "get_job", { job_id: jobId });
        assert.equal(done.structuredContent?.status, "COMPLETED", allText(done));
      } finally {
        await client.close();
        await server.close();
      }
    });
  });
});

Deno.test("rotating FAL_KEY keeps the job history and follows an unfinished job with the new key", async () => {
  const rotated = `${TEST_FAL_KEY}-rotated`;
  await withTempDir(async (dir) => {
    await withFakeFal(async (fake) => {
      const first = await startTestHttpServer(serverOptions(fake, dir));
      let finished: string;
      let running: string;
      const client = await connect(first.url);
      try {
        const done = await callOn(client, "submit_job", {
          endpoint_id: "fal-ai/flux/dev",
          input: { prompt: "finished before the rotation" },
        });
        finished = done.structuredContent?.job_id as string;
        const waited = await callOn(client, "get_job", { job_id: finished, wait_seconds: 30 });
        assert.equal(waited.structuredContent?.status, "COMPLETED", allText(waited));
        const slow = await callOn(client, "submit_job", {
          endpoint_id: "fal-ai/flux/dev",
          input: { prompt: "still running at the rotation", fake_duration_ms: 3000 },
          validate: false,
        });
        running = slow.structuredContent?.job_id as string;
      } finally {
        await client.close();
        await first.close();
      }
      assert.notEqual(fake.state.jobs.get(running)?.status, "COMPLETED");
      const before = fake.state.requests.length;

      // The operator rotates the key in fal's dashboard: a new key of the same account.
      const second = await startTestHttpServer({
        env: { ...falEnv(fake), FAL_KEY: rotated },
        args: ["--job-store", "sqlite", "--state-dir", dir],
      });
      const secondClient = await connect(second.url);
      try {
        const listed = await callOn(secondClient, "list_jobs", {});
        const ids = (listed.structuredContent?.jobs as { job_id: string }[]).map((j) => j.job_id);
        assert.deepEqual(ids.sort(), [finished, running].sort());
        const old = await callOn(secondClient, "get_job", { job_id: finished });
        assert.equal(old.structuredContent?.status, "COMPLETED", allText(old));
        const followed = await callOn(secondClient, "get_job", {
          job_id: running,
          wait_seconds: 30,
        });
        assert.equal(followed.structuredContent?.status, "COMPLETED", allText(followed));
        const statusPath = `/queue/fal-ai/flux/requests/${running}`;
        const reads = fake.state.requests.slice(before).filter((r) =>
          r.path.startsWith(statusPath)
        );
        assert.ok(reads.length > 0, "the new server followed the job at fal");
        assert.ok(reads.every((r) => r.status < 400), "fal accepted the new key for the old job");
      } finally {
        await secondClient.close();
        await second.close();
      }
    }, { accounts: [[TEST_FAL_KEY, rotated]] });
  });
});
