/**
 * fal as it really behaves, and the server following it: status streams that fail or fall
 * silent, transient failures of result fetches, results that expire, model failures that come
 * with the result, the usage API's Admin scope, and settling write-ahead records with fal's
 * request listing.
 */

import assert from "node:assert/strict";
import { FalClient } from "../src/fal/client.ts";
import { FalApiError } from "../src/fal/errors.ts";
import { runQueuedJob } from "./helpers/queued_job.ts";
import { resolveFalHosts } from "../src/fal/hosts.ts";
import { type JobCaller, JobManager } from "../src/jobs/manager.ts";
import { MemoryJobStore } from "../src/jobs/memory_store.ts";
import type { JobRecord } from "../src/jobs/types.ts";
import { silentLogger } from "../src/log.ts";
import { type FakeFal, startFakeFal } from "./fake_fal/server.ts";
import { TEST_FAL_KEY } from "./helpers/scenario.ts";
import { allText, withToolClient } from "./helpers/tool_client.ts";
import { waitFor } from "./helpers/wait_for.ts";

const ENDPOINT = "fal-ai/flux/dev";
const AUTH = { authorization: `Key ${TEST_FAL_KEY}` };

function statusPolls(fake: FakeFal): number {
  return fake.state.requests.filter((r) => r.method === "GET" && r.path.endsWith("/status"))
    .length;
}

async function withFake(
  fn: (fake: FakeFal, fal: FalClient) => Promise<void>,
  options: Parameters<typeof startFakeFal>[0] = {},
  client: { streamIdleMs?: number } = {},
): Promise<void> {
  const fake = await startFakeFal({ jobDurationMs: 150, queueSteps: 2, ...options });
  try {
    const fal = new FalClient({
      hosts: resolveFalHosts(fake.url),
      key: TEST_FAL_KEY,
      retryBaseMs: 1,
      ...client,
    });
    await fn(fake, fal);
  } finally {
    await fake.close();
  }
}

Deno.test("a status stream answered 405 still completes the job by polling (server end to end)", async () => {
  await withToolClient(async ({ call, fake }) => {
    const fault = fake.injectFault({ match: "status_stream", respond: 405, times: Infinity });
    const answer = await call("run_model", {
      endpoint_id: ENDPOINT,
      input: { prompt: "a lighthouse at dusk" },
    });
    assert.notEqual(answer.isError, true, allText(answer));
    assert.ok(answer.content.some((c) => c.type === "resource_link"), allText(answer));
    assert.ok(fault.fired >= 1, "the stream was tried");
    assert.ok(statusPolls(fake) >= 1, "the job was polled after the 405");
  });
});

Deno.test("a status stream that stays silent past the idle timeout falls back to polling", async () => {
  await withFake(
    async (fake, fal) => {
      const fault = fake.injectFault({ match: "status_stream", respond: "silent_stream" });
      const job = await runQueuedJob(fal, ENDPOINT, { prompt: "quiet" }, { pollIntervalMs: 20 });
      assert.equal(job.status.status, "COMPLETED");
      assert.ok(Array.isArray((job.result as { images?: unknown }).images));
      assert.equal(fault.fired, 1);
      assert.ok(statusPolls(fake) >= 1, "the job was polled after the silence");
    },
    { jobDurationMs: 600 },
    { streamIdleMs: 150 },
  );
});

Deno.test("a stream that only pings is alive: it is not given up as silent", async () => {
  await withFake(
    async (fake, fal) => {
      const job = await runQueuedJob(fal, ENDPOINT, { prompt: "pinging" }, { pollIntervalMs: 20 });
      assert.equal(job.status.status, "COMPLETED");
      assert.equal(statusPolls(fake), 0, "the stream carried the job to the end");
    },
    { jobDurationMs: 700, pingIntervalMs: 50 },
    { streamIdleMs: 300 },
  );
});

Deno.test("transient 5xx on the result fetch (more than the client's own retries) still completes the job", async () => {
  await withToolClient(async ({ call, fake }) => {
    // Six gateway failures: the client's four attempts give up once, the job follower retries.
    const fault = fake.injectFault({ match: "result", respond: 503, times: 6 });
    const submitted = await call("submit_job", {
      endpoint_id: ENDPOINT,
      input: { prompt: "worth keeping" },
    });
    assert.notEqual(submitted.isError, true, allText(submitted));
    const jobId = String(submitted.structuredContent?.job_id);
    const done = await call("get_job", { job_id: jobId, wait_seconds: 60 });
    assert.notEqual(done.isError, true, allText(done));
    assert.equal(done.structuredContent?.status, "COMPLETED", allText(done));
    assert.equal(fault.fired, 6);
  });
});

Deno.test("a model failure comes with the result and fails the job with fal's words, fetched once", async () => {
  await withToolClient(async ({ call, fake }) => {
    const submitted = await call("submit_job", {
      endpoint_id: ENDPOINT,
      input: { prompt: "x", fake_fail: "content_policy_violation" },
      validate: false, // fake_fail is a hook of the fake, not a field of the model
    });
    const jobId = String(submitted.structuredContent?.job_id);
    const done = await call("get_job", { job_id: jobId, wait_seconds: 60 });
    assert.equal(done.structuredContent?.status, "FAILED", allText(done));
    assert.match(allText(done), /flagged by a content checker/);
    const resultReads = fake.state.requests.filter((r) =>
      r.method === "GET" && r.path.endsWith(`/requests/${jobId}`)
    );
    assert.equal(resultReads.length, 1, "fal's verdict is not retried");
  });
});

Deno.test("get_usage with a key without the Admin scope says the usage API needs an Admin key and how to get one", async () => {
  await withToolClient(async ({ call }) => {
    const answer = await call("get_usage", {
      start: new Date(Date.now() - 3600_000).toISOString(),
    });
    assert.equal(answer.isError, true);
    const text = allText(answer);
    assert.match(text, /403/);
    assert.match(text, /Admin-scope API key/);
    assert.match(text, /https:\/\/fal\.ai\/dashboard\/keys/);
    assert.ok(!text.includes(TEST_FAL_KEY), "the key is never echoed");
  }, { fake: { adminKeys: ["an-admin-key"] } });
});

Deno.test("fal keeps results 1 hour, 6 minutes when 10 KB or more: then the result answers 404", async () => {
  await withFake(async (fake) => {
    const submit = async (input: Record<string, unknown>) => {
      const res = await fetch(`${fake.url}/queue/${ENDPOINT}`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "application/json" },
        body: JSON.stringify(input),
      });
      return (await res.json()).response_url as string;
    };
    const small = await submit({ prompt: "small" });
    const large = await submit({ prompt: "large", sync_mode: true, image_size: "square_hd" });
    await waitFor(() => [...fake.state.jobs.values()].every((j) => j.status === "COMPLETED"));
    const smallRes = await fetch(small, { headers: AUTH });
    assert.equal(smallRes.status, 200, "a small result is still kept");
    await smallRes.body?.cancel();
    const largeRes = await fetch(large, { headers: AUTH });
    assert.equal(largeRes.status, 404, "a result of 10 KB or more has expired");
    await largeRes.body?.cancel();
  }, { jobDurationMs: 20, largeResultRetentionMs: 0 });

  await withFake(async (fake, fal) => {
    const job = await fal.submit(ENDPOINT, { prompt: "gone" });
    await waitFor(() => fake.state.jobs.get(job.request_id)?.status === "COMPLETED");
    await assert.rejects(fal.result(ENDPOINT, job.request_id), (error: unknown) => {
      assert.ok(error instanceof FalApiError);
      assert.equal(error.falStatus, 404);
      return true;
    });
  }, { jobDurationMs: 20, resultRetentionMs: 0 });
});

Deno.test("the request listing (GET /v1/models/requests/by-endpoint) shows ended requests with their inputs", async () => {
  await withFake(async (fake, fal) => {
    const job = await fal.submit(ENDPOINT, { prompt: "listed", seed: 3 });
    await waitFor(() => fake.state.jobs.get(job.request_id)?.status === "COMPLETED");
    const list = async (query: string) => {
      const res = await fetch(`${fake.url}/api/v1/models/requests/by-endpoint?${query}`, {
        headers: AUTH,
      });
      return { status: res.status, body: await res.json() };
    };
    const page = await list(`endpoint_id=${ENDPOINT}&expand=payloads`);
    assert.equal(page.status, 200);
    assert.equal(page.body.has_more, false);
    const [item] = page.body.items;
    assert.equal(item.request_id, job.request_id);
    assert.equal(item.endpoint_id, ENDPOINT);
    assert.deepEqual(item.json_input, { prompt: "listed", seed: 3 });
    assert.equal(item.status_code, 200);
    assert.equal(typeof item.sent_at, "string");
    assert.equal(typeof item.ended_at, "string");
    const bare = await list(`endpoint_id=${ENDPOINT}`);
    assert.equal(bare.body.items[0].json_input, undefined, "payloads only when expanded");
    const other = await list(`endpoint_id=fal-ai/flux/schnell`);
    assert.deepEqual(other.body.items, []);
    const missing = await list("expand=payloads");
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.type, "validation_error");
  });
});

/** The one local principal these tests act as. */
const LOCAL = "local";

function callerOf(fal: FalClient): JobCaller {
  return { principal: { id: LOCAL }, fal };
}

function managerFor(options: Partial<ConstructorParameters<typeof JobManager>[0]> = {}) {
  return new JobManager({
    store: new MemoryJobStore(),
    logger: silentLogger,
    pollIntervalMs: 20,
    settleIntervalMs: 20,
    ...options,
  });
}

Deno.test("a submit resent after an unanswered attempt: every job fal accepted gets a record", async () => {
  await withFake(async (fake) => {
    // The first submit is accepted but its answer never comes back in time: the client's fetch
    // gives up (a network error), the submit is sent again and answered.
    fake.injectFault({ match: "submit", respond: "delay_answer", delayMs: 60_000 });
    const impatient = ((input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      const submit = request.method === "POST" &&
        new URL(request.url).pathname.startsWith("/queue/");
      return fetch(request, submit ? { signal: AbortSignal.timeout(500) } : {});
    }) as typeof fetch;
    const fal = new FalClient({
      hosts: resolveFalHosts(fake.url),
      key: TEST_FAL_KEY,
      retryBaseMs: 1,
      fetch: impatient,
    });
    const jobs = managerFor();
    try {
      const record = await jobs.submit(callerOf(fal), ENDPOINT, { prompt: "twice" });
      const accepted = fake.accepted();
      assert.equal(accepted.length, 2, "fal accepted both attempts");
      assert.equal(record.id, accepted[1]);
      await jobs.settled();
      for (const id of accepted) {
        const kept = await jobs.store.get(id);
        assert.ok(kept, `fal's job ${id} has a record`);
        assert.deepEqual(kept.input, { prompt: "twice" });
      }
      assert.deepEqual(
        (await jobs.store.unfinished()).filter((r) => r.status === "PENDING"),
        [],
      );
    } finally {
      await jobs.close();
    }
  });
});

Deno.test("a pending record fal never received is marked UNKNOWN with what is needed to find it", async () => {
  await withFake(async (_fake, fal) => {
    const store = new MemoryJobStore();
    const createdAt = new Date().toISOString();
    const pending: JobRecord = {
      id: "pending-never-sent",
      endpointId: ENDPOINT,
      owner: LOCAL,
      status: "PENDING",
      logs: [],
      input: { prompt: "never sent" },
      createdAt,
      updatedAt: createdAt,
    };
    await store.put(pending);
    const jobs = managerFor({ store, settleWindowMs: 0, serverFal: fal });
    try {
      await jobs.resume();
      await jobs.settled();
      const record = await store.get("pending-never-sent");
      assert.equal(record?.status, "UNKNOWN");
      assert.match(record!.error!, new RegExp(ENDPOINT));
      assert.match(record!.error!, new RegExp(createdAt.replace(/[.]/g, "\\.")));
      assert.match(record!.error!, /https:\/\/fal\.ai\/dashboard\/requests/);
    } finally {
      await jobs.close();
    }
  });
});

Deno.test("a submit fal refuses leaves no record behind", async () => {
  await withFake(async (_fake, fal) => {
    const jobs = managerFor();
    try {
      await assert.rejects(
        jobs.submit(callerOf(fal), ENDPOINT, { output_format: "gif" }),
        FalApiError,
      );
      assert.deepEqual((await jobs.list({ owner: LOCAL, limit: 10 })).jobs, []);
    } finally {
      await jobs.close();
    }
  }, { validateOnSubmit: true });
});

Deno.test("a submit without a fal key leaves no record and is not settled", async () => {
  await withFake(async (fake) => {
    const keyless = new FalClient({ hosts: resolveFalHosts(fake.url) });
    const jobs = managerFor();
    try {
      await assert.rejects(jobs.submit(callerOf(keyless), ENDPOINT, { prompt: "x" }), /FAL_KEY/);
      assert.deepEqual(await jobs.store.unfinished(), []);
      await jobs.settled();
      assert.equal(fake.state.requests.length, 0, "nothing was asked of fal");
    } finally {
      await jobs.close();
    }
  });
});

Deno.test("while fal's request listing fails, a pending record waits; once it answers, the record is matched", async () => {
  await withFake(async (fake, fal) => {
    const accepted = await fal.submit(ENDPOINT, { prompt: "listed later" });
    await waitFor(() => fake.state.jobs.get(accepted.request_id)?.status === "COMPLETED");
    const store = new MemoryJobStore();
    const createdAt = new Date(Date.now() - 1000).toISOString();
    await store.put({
      id: "pending-listed-later",
      endpointId: ENDPOINT,
      owner: LOCAL,
      status: "PENDING",
      logs: [],
      input: { prompt: "listed later" },
      createdAt,
      updatedAt: createdAt,
    });
    // More failures than the client's own retries: the first round gives up, a later one works.
    const fault = fake.injectFault({ match: "requests", respond: 503, times: 6 });
    const jobs = managerFor({ store, serverFal: fal });
    try {
      await jobs.resume();
      await jobs.settled();
      assert.equal(fault.fired, 6);
      assert.equal(await store.get("pending-listed-later"), undefined);
      const record = await store.get(accepted.request_id);
      assert.ok(record, "the pending record now carries fal's request id");
      assert.equal((await jobs.wait(callerOf(fal), accepted.request_id, {})).status, "COMPLETED");
    } finally {
      await jobs.close();
    }
  });
});
