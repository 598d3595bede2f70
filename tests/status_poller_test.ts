/**
 * Following many jobs: beyond the stream budget jobs are polled by one shared poller, with at
 * most a bounded number of status requests in flight, and progress and results still arrive.
 */

import assert from "node:assert/strict";
import { FalClient } from "../src/fal/client.ts";
import { resolveFalHosts } from "../src/fal/hosts.ts";
import { StatusPoller } from "../src/fal/status_poller.ts";
import { type JobCaller, JobManager } from "../src/jobs/manager.ts";
import { MemoryJobStore } from "../src/jobs/memory_store.ts";
import { silentLogger } from "../src/log.ts";
import { type FakeFal, startFakeFal } from "./fake_fal/server.ts";
import { TEST_FAL_KEY } from "./helpers/scenario.ts";

const ENDPOINT = "fal-ai/flux/schnell";

function count(fake: FakeFal, suffix: string): number {
  return fake.state.requests.filter((r) => r.method === "GET" && r.path.endsWith(suffix)).length;
}

async function withFake(
  fn: (fake: FakeFal, fal: FalClient) => Promise<void>,
  options: Parameters<typeof startFakeFal>[0] = {},
): Promise<void> {
  const fake = await startFakeFal({ jobDurationMs: 300, queueSteps: 2, ...options });
  try {
    await fn(fake, new FalClient({ hosts: resolveFalHosts(fake.url), key: TEST_FAL_KEY }));
  } finally {
    await fake.close();
  }
}

Deno.test("jobs beyond the stream budget are polled, and every one completes with its result", async () => {
  await withFake(async (fake, fal) => {
    const jobs = new JobManager({
      store: new MemoryJobStore(),
      logger: silentLogger,
      pollIntervalMs: 30,
      maxStatusStreams: 2,
    });
    const caller: JobCaller = { principal: { id: "local" }, fal };
    try {
      const submitted = await Promise.all(
        Array.from({ length: 6 }, (_, i) => jobs.submit(caller, ENDPOINT, { prompt: `job ${i}` })),
      );
      const statuses = submitted.map(() => 0);
      const done = await Promise.all(
        submitted.map((record, i) =>
          jobs.wait(caller, record.id, { onStatus: () => statuses[i]!++ })
        ),
      );
      for (const record of done) {
        assert.equal(record.status, "COMPLETED");
        assert.ok(Array.isArray((record.result as { images?: unknown }).images));
      }
      assert.equal(count(fake, "/status/stream"), 2, "only the budget's jobs opened a stream");
      assert.ok(count(fake, "/status") >= 4, "the other jobs were polled");
      assert.ok(statuses.every((n) => n > 0), `every job reported statuses: ${statuses}`);
    } finally {
      await jobs.close();
    }
  });
});

Deno.test("the poller keeps at most its bound of status requests in flight", async () => {
  await withFake(async (_fake, fal) => {
    let inFlight = 0;
    let most = 0;
    const counting = new Proxy(fal, {
      get(target, key) {
        if (key !== "status") return Reflect.get(target, key, target);
        return async (...args: Parameters<FalClient["status"]>) => {
          inFlight++;
          most = Math.max(most, inFlight);
          try {
            return await target.status(...args);
          } finally {
            inFlight--;
          }
        };
      },
    });
    const poller = new StatusPoller({ minIntervalMs: 10, maxInFlight: 3 });
    const ids = await Promise.all(
      Array.from(
        { length: 10 },
        async (_, i) => (await fal.submit(ENDPOINT, { prompt: `poll ${i}` })).request_id,
      ),
    );
    const finals = await Promise.all(ids.map((id) => poller.watch(counting, ENDPOINT, id)));
    assert.ok(finals.every((s) => s.status === "COMPLETED"));
    assert.ok(most <= 3, `at most 3 polls in flight, saw ${most}`);
    assert.ok(most >= 2, "polls ran side by side");
    assert.equal(poller.size, 0, "finished jobs are no longer watched");
  });
});

Deno.test("watching stops when its signal aborts, and the job is no longer polled", async () => {
  await withFake(async (fake, fal) => {
    const poller = new StatusPoller({ minIntervalMs: 20 });
    const { request_id } = await fal.submit(ENDPOINT, { prompt: "left" });
    const controller = new AbortController();
    const watched = poller.watch(fal, ENDPOINT, request_id, { signal: controller.signal });
    controller.abort(new Error("caller left"));
    await assert.rejects(watched, /caller left/);
    assert.equal(poller.size, 0);
    const polls = count(fake, "/status");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(count(fake, "/status") <= polls + 1, "no more polls after the abort");
  }, { jobDurationMs: 2000 });
});

Deno.test("each job is polled less often once more jobs are watched than the rate allows", () => {
  const poller = new StatusPoller({ minIntervalMs: 1000, maxPollsPerSecond: 100 });
  assert.equal(poller.intervalMs, 1000);
  const never = { status: () => new Promise(() => {}) } as unknown as FalClient;
  const controller = new AbortController();
  const watches = Array.from(
    { length: 500 },
    (_, i) =>
      poller.watch(never, ENDPOINT, `r${i}`, { signal: controller.signal, immediate: false }),
  );
  assert.equal(poller.intervalMs, 5000, "500 jobs at 100 polls/s: each every 5 s");
  controller.abort(new Error("done"));
  return Promise.allSettled(watches).then(() => assert.equal(poller.size, 0));
});
