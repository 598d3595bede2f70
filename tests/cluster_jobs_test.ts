import assert from "node:assert/strict";
import { openRedisCluster, redactRedisUrl } from "../src/cluster/redis_cluster.ts";
import { FalClient } from "../src/fal/client.ts";
import { resolveFalHosts } from "../src/fal/hosts.ts";
import { JobManager } from "../src/jobs/manager.ts";
import { silentLogger } from "../src/log.ts";
import { LOCAL } from "../src/principal.ts";
import { startRedis } from "./helpers/redis_server.ts";
import { TEST_FAL_KEY, withFakeFal } from "./helpers/scenario.ts";
import { waitFor } from "./helpers/wait_for.ts";

Deno.test("lease: one holder at a time; released leases can be taken; a lease taken away aborts its signal", async () => {
  const redis = await startRedis();
  const a = await openRedisCluster({ url: redis.url, logger: silentLogger, leaseMs: 300 });
  const b = await openRedisCluster({ url: redis.url, logger: silentLogger, leaseMs: 300 });
  try {
    const lease = await a.coordinator.acquire("req-1");
    assert.ok(lease);
    assert.equal(await b.coordinator.acquire("req-1"), undefined);
    await lease.release();
    const taken = await b.coordinator.acquire("req-1");
    assert.ok(taken);
    // Renewal keeps it alive well past its time to live.
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(await a.coordinator.acquire("req-1"), undefined);
    assert.equal(taken.signal.aborted, false);
    // Someone else's lease now: the holder notices on its next renewal and stops.
    const client = await redis.client();
    await client.set("fal-mcp:lease:req-1", "another-instance");
    await client.close();
    await waitFor(() => taken.signal.aborted, "the lost lease to abort");
    await taken.release();
  } finally {
    await a.close();
    await b.close();
    await redis.stop();
  }
});

Deno.test("cluster jobs: a waiter on another instance is woken by the follower's completion over pub/sub", async () => {
  await withFakeFal(async (fake) => {
    const redis = await startRedis();
    const hosts = resolveFalHosts(fake.url);
    const open = async () => {
      const cluster = await openRedisCluster({ url: redis.url, logger: silentLogger });
      const fal = new FalClient({ hosts, key: TEST_FAL_KEY });
      const jobs = new JobManager({
        store: cluster.store,
        coordinator: cluster.coordinator,
        logger: silentLogger,
        serverFal: fal,
        pollIntervalMs: 50,
      });
      return { cluster, jobs, caller: { principal: LOCAL, fal } };
    };
    const b = await open();
    const c = await open();
    try {
      const record = await b.jobs.submit(b.caller, "fal-ai/flux/dev", {
        prompt: "a fox",
        fake_duration_ms: 800,
      });
      const progress: string[] = [];
      const done = await c.jobs.wait(c.caller, record.id, {
        timeoutMs: 30_000,
        onStatus: (status) => progress.push(status.status),
      });
      assert.equal(done.status, "COMPLETED");
      assert.ok(done.result);
      assert.ok(progress.length > 0, "the waiter saw the follower's statuses");
      const fetches = fake.state.requests.filter((r) =>
        r.method === "GET" && r.path.endsWith(`/requests/${record.id}`)
      );
      assert.equal(fetches.length, 1, "only the lease holder fetched the result");
      // Listing and cancelling work from either instance.
      const page = await c.jobs.list({ owner: LOCAL.id, limit: 10 });
      assert.deepEqual(page.jobs.map((j) => j.id), [record.id]);
      assert.equal((await c.jobs.cancel(c.caller, record.id)).outcome, "ALREADY_FINISHED");
    } finally {
      await b.jobs.close();
      await c.jobs.close();
      await b.cluster.close();
      await c.cluster.close();
      await redis.stop();
    }
  });
});

Deno.test("cluster: an unreachable Redis at start is a clear error naming the host, never the password", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  const url = `redis://:s3cret-password@127.0.0.1:${port}`;
  await assert.rejects(
    openRedisCluster({ url, logger: silentLogger }),
    (error: Error) => {
      assert.match(
        error.message,
        new RegExp(`Cannot connect to Redis at redis://127.0.0.1:${port}`),
      );
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    },
  );
  assert.equal(
    redactRedisUrl("rediss://user:pw@cache.example:6380/2"),
    "rediss://cache.example:6380/2",
  );
});
