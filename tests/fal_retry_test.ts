import assert from "node:assert/strict";
import { FalClient } from "../src/fal/client.ts";
import { FalApiError } from "../src/fal/errors.ts";
import { runQueuedJob } from "./helpers/queued_job.ts";
import { resolveFalHosts } from "../src/fal/hosts.ts";
import type { QueueStatus } from "../src/fal/types.ts";
import { type FakeFal, startFakeFal } from "./fake_fal/server.ts";
import { TEST_FAL_KEY } from "./helpers/scenario.ts";

const ENDPOINT = "fal-ai/flux/dev";
const INPUT = { prompt: "a lighthouse", image_size: "square" };

/** Runs `fn` against a fake fal with a client whose retries wait about a millisecond. */
async function withFal(
  fn: (fal: FalClient, fake: FakeFal) => Promise<void>,
  jobDurationMs = 150,
): Promise<void> {
  const fake = await startFakeFal({ jobDurationMs, queueSteps: 2 });
  try {
    const fal = new FalClient({
      hosts: resolveFalHosts(fake.url),
      key: TEST_FAL_KEY,
      retryBaseMs: 1,
    });
    await fn(fal, fake);
  } finally {
    await fake.close();
  }
}

/** Requests the fake received for a kind of call, by path suffix and method. */
function received(fake: FakeFal, method: string, test: (path: string) => boolean): number {
  return fake.state.requests.filter((r) => r.method === method && test(r.path)).length;
}

const isStatusRead = (path: string) => path.endsWith("/status");
const isSubmit = (path: string) => path === `/queue/${ENDPOINT}`;

Deno.test("a status read answered 503 twice is retried and the job still completes", async () => {
  await withFal(async (fal, fake) => {
    // Without a stream the client polls, which is where status reads happen.
    fake.injectFault({ match: "status_stream", respond: "drop_stream", events: 0 });
    const fault = fake.injectFault({ match: "status", respond: 503, times: 2 });
    const job = await runQueuedJob(fal, ENDPOINT, INPUT, { pollIntervalMs: 5 });
    assert.equal(job.status.status, "COMPLETED");
    assert.ok(Array.isArray((job.result as { images?: unknown }).images));
    assert.equal(fault.fired, 2);
    assert.equal(
      fake.state.requests.filter((r) => r.fault === "503").length,
      2,
      "both 503s reached the client",
    );
    assert.ok(received(fake, "GET", isStatusRead) >= 3, "the 503s were followed by a good read");
  });
});

Deno.test("a submit answered 429 with Retry-After is retried (it was refused, not accepted)", async () => {
  await withFal(async (fal, fake) => {
    const fault = fake.injectFault({ match: "submit", respond: 429, retryAfter: 0 });
    const job = await runQueuedJob(fal, ENDPOINT, INPUT, { pollIntervalMs: 5 });
    assert.equal(job.status.status, "COMPLETED");
    assert.equal(fault.fired, 1);
    assert.equal(received(fake, "POST", isSubmit), 2);
    assert.equal(fake.state.jobs.size, 1, "exactly one job was created");
  });
});

Deno.test("a submit answered 503 is retried with backoff and the job completes", async () => {
  await withFal(async (fal, fake) => {
    const fault = fake.injectFault({ match: "submit", respond: 503, times: 2 });
    const job = await runQueuedJob(fal, ENDPOINT, INPUT, { pollIntervalMs: 5 });
    assert.equal(job.status.status, "COMPLETED");
    assert.equal(fault.fired, 2);
    assert.equal(received(fake, "POST", isSubmit), 3);
    assert.deepEqual(fake.accepted(), [job.requestId], "exactly one job was accepted");
  });
});

Deno.test("a submit answered 503 every time gives up after bounded retries, saying fal answered 503", async () => {
  await withFal(async (fal, fake) => {
    const fault = fake.injectFault({ match: "submit", respond: 503, times: Infinity });
    await assert.rejects(
      runQueuedJob(fal, ENDPOINT, INPUT, { pollIntervalMs: 5 }),
      (error: unknown) => {
        assert.ok(error instanceof FalApiError);
        assert.equal(error.falStatus, 503);
        assert.equal(error.errorType, "runner_scheduling_failure");
        assert.equal(
          error.message,
          `Cannot submit job to ${ENDPOINT}: fal answered 503: ` +
            "No runner could be allocated to the request",
        );
        return true;
      },
    );
    assert.equal(fault.fired, 4, "four attempts in all");
    assert.equal(received(fake, "POST", isSubmit), 4);
  });
});

Deno.test("a status stream that drops mid-job falls back to polling and still returns the result", async () => {
  await withFal(async (fal, fake) => {
    const drop = fake.injectFault({ match: "status_stream", respond: "drop_stream", events: 1 });
    const seen: QueueStatus[] = [];
    const job = await runQueuedJob(fal, ENDPOINT, INPUT, {
      pollIntervalMs: 5,
      onStatus: (status) => seen.push(status),
    });
    assert.equal(drop.fired, 1);
    assert.equal(job.status.status, "COMPLETED");
    assert.ok(Array.isArray((job.result as { images?: unknown }).images));
    assert.ok(received(fake, "GET", isStatusRead) >= 1, "the client polled after the drop");
    assert.equal(seen.at(-1)?.status, "COMPLETED");
  });
});

Deno.test("a result read answered 502 is retried (reads are safe to repeat)", async () => {
  await withFal(async (fal, fake) => {
    const fault = fake.injectFault({ match: "result", respond: 502 });
    const job = await runQueuedJob(fal, ENDPOINT, INPUT, { pollIntervalMs: 5 });
    assert.equal(fault.fired, 1);
    assert.ok(Array.isArray((job.result as { images?: unknown }).images));
  });
});

Deno.test("a job that fails (fake_fail: model_error) is reported with fal's error text", async () => {
  await withFal(async (fal) => {
    let requestId = "";
    await assert.rejects(
      runQueuedJob(fal, ENDPOINT, { ...INPUT, fake_fail: "model_error" }, {
        pollIntervalMs: 5,
        onSubmitted: (id) => requestId = id,
      }),
      (error: unknown) => {
        assert.ok(error instanceof FalApiError);
        assert.equal(
          error.message,
          `The ${ENDPOINT} job ${requestId} failed: ` +
            "Internal server error while running the model.",
        );
        return true;
      },
    );
  });
});

Deno.test("a job that fails on fal's side (runner_disconnected) carries its error type", async () => {
  await withFal(async (fal) => {
    await assert.rejects(
      runQueuedJob(fal, ENDPOINT, { ...INPUT, fake_fail: "runner_disconnected" }, {
        pollIntervalMs: 5,
      }),
      (error: unknown) => {
        assert.ok(error instanceof FalApiError);
        assert.equal(error.errorType, "runner_disconnected");
        assert.match(error.message, /failed: Runner disconnected during processing$/);
        return true;
      },
    );
  });
});
