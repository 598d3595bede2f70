import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { FalMcpError, JsonRpcCode } from "../src/errors.ts";
import { createLogger, silentLogger } from "../src/log.ts";
import { MemoryJobStore } from "../src/jobs/memory_store.ts";
import { openJobStore } from "../src/jobs/open_store.ts";
import { decodeCursor, encodeCursor } from "../src/jobs/query.ts";
import { SQLITE_SCHEMA_VERSION, SqliteJobStore } from "../src/jobs/sqlite_store.ts";
import type { JobRecord, JobStatus, JobStore } from "../src/jobs/types.ts";
import { RedisJobStore } from "../src/jobs/redis_store.ts";
import { startRedis } from "./helpers/redis_server.ts";

/** A record with every field set, created `minute` minutes after a fixed start. */
function job(
  id: string,
  minute: number,
  overrides: Partial<JobRecord> = {},
): JobRecord {
  const createdAt = new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
  return {
    id,
    endpointId: "fal-ai/flux/dev",
    owner: "owner-a",
    status: "COMPLETED",
    queuePosition: 0,
    logs: [{ message: "done", timestamp: createdAt }],
    input: { prompt: `picture ${id}`, seed: minute },
    result: {
      images: [{
        url: `https://fal.media/${id}.png`,
        width: 1024,
        height: 768,
      }],
    },
    metrics: { inference_time: 1.5 },
    tool: "generate_image",
    createdAt,
    updatedAt: createdAt,
    finishedAt: createdAt,
    ...overrides,
  };
}

function ids(jobs: readonly JobRecord[]): string[] {
  return jobs.map((record) => record.id);
}

function isInvalidCursor(error: unknown): boolean {
  return error instanceof FalMcpError && error.status === 400 &&
    error.code === JsonRpcCode.InvalidParams && /cursor/i.test(error.message) &&
    /invalid/i.test(error.message);
}

async function withTempDir(
  run: (dir: string) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "fal-mcp-jobs-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A store factory; `cleanup` runs after the store is closed. */
interface Fixture {
  store: JobStore;
  cleanup(): Promise<void>;
}

/** Registers the behaviour every JobStore must share. */
function contract(name: string, makeStore: () => Promise<Fixture>): void {
  const test = (title: string, body: (store: JobStore) => Promise<void>) =>
    Deno.test(`${name}: ${title}`, async () => {
      const { store, cleanup } = await makeStore();
      try {
        await body(store);
      } finally {
        await store.close();
        await cleanup();
      }
    });

  test("get returns a put record deep-equal, nested result included", async (store) => {
    const record = job("req-1", 1, {
      result: {
        video: {
          url: "https://fal.media/v.mp4",
          meta: { frames: [1, 2, { k: null }] },
        },
      },
    });
    await store.put(record);
    assert.deepEqual(await store.get("req-1"), record);
  });

  test("a result of a few megabytes round-trips exactly", async (store) => {
    const big = "x".repeat(3 * 1024 * 1024);
    const record = job("req-big", 1, {
      result: { data: big, list: [big.slice(0, 10)] },
    });
    await store.put(record);
    assert.deepEqual(await store.get("req-big"), record);
  });

  test("put with an existing id replaces the record", async (store) => {
    await store.put(job("req-1", 1, { status: "IN_QUEUE", result: undefined }));
    const done = job("req-1", 1, {
      status: "COMPLETED",
      updatedAt: "2026-01-01T01:00:00.000Z",
    });
    await store.put(done);
    assert.deepEqual(await store.get("req-1"), done);
    const page = await store.list({ owner: "owner-a", limit: 10 });
    assert.deepEqual(page.jobs, [done]);
  });

  test("get of an unknown id returns undefined", async (store) => {
    assert.equal(await store.get("nope"), undefined);
  });

  test("list returns jobs newest first, ties broken by id descending", async (store) => {
    await store.put(job("b", 2));
    await store.put(job("a", 1));
    await store.put(job("c", 3));
    await store.put(job("c2", 3));
    const page = await store.list({ owner: "owner-a", limit: 10 });
    assert.deepEqual(ids(page.jobs), ["c2", "c", "b", "a"]);
    assert.equal(page.nextCursor, undefined);
  });

  test("ids order by code point (as SQLite compares UTF-8), also across a cursor", async (store) => {
    // UTF-16 code units would put U+1F600 (a surrogate pair) before U+FF5E; code points do not.
    for (const id of ["a", "\uFF5E", "\u{1F600}"]) await store.put(job(id, 1));
    const first = await store.list({ owner: "owner-a", limit: 1 });
    assert.deepEqual(ids(first.jobs), ["\u{1F600}"]);
    const rest = await store.list({
      owner: "owner-a",
      limit: 5,
      cursor: first.nextCursor,
    });
    assert.deepEqual(ids(rest.jobs), ["\uFF5E", "a"]);
  });

  test("an owner never sees another owner's jobs", async (store) => {
    await store.put(job("a1", 1, { owner: "owner-a" }));
    await store.put(job("b1", 2, { owner: "owner-b" }));
    await store.put(job("a2", 3, { owner: "owner-a" }));
    assert.deepEqual(
      ids((await store.list({ owner: "owner-a", limit: 10 })).jobs),
      ["a2", "a1"],
    );
    assert.deepEqual(
      ids((await store.list({ owner: "owner-b", limit: 10 })).jobs),
      ["b1"],
    );
    assert.deepEqual(
      (await store.list({ owner: "owner-c", limit: 10 })).jobs,
      [],
    );
  });

  test("list filters by any of the given statuses and by endpoint", async (store) => {
    const statuses: JobStatus[] = [
      "IN_QUEUE",
      "IN_PROGRESS",
      "COMPLETED",
      "FAILED",
      "CANCELLED",
    ];
    for (const [i, status] of statuses.entries()) {
      const endpointId = i % 2 === 0 ? "fal-ai/flux/dev" : "fal-ai/veo3";
      await store.put(job(`j${i}`, i, { status, endpointId }));
    }
    const owner = "owner-a";
    const running = await store.list({
      owner,
      statuses: ["IN_QUEUE", "IN_PROGRESS"],
      limit: 10,
    });
    assert.deepEqual(ids(running.jobs), ["j1", "j0"]);
    const veo = await store.list({
      owner,
      endpointId: "fal-ai/veo3",
      limit: 10,
    });
    assert.deepEqual(ids(veo.jobs), ["j3", "j1"]);
    const both = await store.list({
      owner,
      endpointId: "fal-ai/flux/dev",
      statuses: ["COMPLETED", "CANCELLED", "IN_PROGRESS"],
      limit: 10,
    });
    assert.deepEqual(ids(both.jobs), ["j4", "j2"]);
    assert.deepEqual(
      (await store.list({ owner, statuses: [], limit: 10 })).jobs,
      [],
    );
  });

  test("paging with limit and cursor returns every job exactly once, in order", async (store) => {
    const all: string[] = [];
    for (let i = 0; i < 23; i++) {
      // Pairs share a createdAt so the id tie-break is exercised across page boundaries.
      await store.put(
        job(`req-${String(i).padStart(2, "0")}`, Math.floor(i / 2)),
      );
      all.push(`req-${String(i).padStart(2, "0")}`);
      await store.put(job(`other-${i}`, i, { owner: "owner-b" }));
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({ owner: "owner-a", limit: 5, cursor });
      assert.ok(page.jobs.length <= 5);
      seen.push(...ids(page.jobs));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    assert.equal(pages, 5);
    assert.deepEqual(seen, all.reverse());
  });

  test("the last full page has no next cursor", async (store) => {
    for (let i = 0; i < 4; i++) await store.put(job(`req-${i}`, i));
    const first = await store.list({ owner: "owner-a", limit: 2 });
    assert.ok(first.nextCursor !== undefined);
    const second = await store.list({
      owner: "owner-a",
      limit: 2,
      cursor: first.nextCursor,
    });
    assert.deepEqual(ids(second.jobs), ["req-1", "req-0"]);
    assert.equal(second.nextCursor, undefined);
  });

  test("an invalid cursor is rejected with a 400 InvalidParams FalMcpError", async (store) => {
    await store.put(job("req-1", 1));
    const bad = [
      "not a cursor!",
      "",
      btoa("{}").replaceAll("=", ""),
      encodeCursor({ createdAt: "x", id: "y" }) + "A",
      Buffer.from(JSON.stringify(["x", 1])).toString("base64url"),
      Buffer.from([0xff, 0xfe]).toString("base64url"),
    ];
    for (const cursor of bad) {
      await assert.rejects(
        store.list({ owner: "owner-a", limit: 5, cursor }),
        isInvalidCursor,
      );
    }
  });

  test("a limit below 1 is rejected with a 400 FalMcpError", async (store) => {
    await assert.rejects(
      store.list({ owner: "owner-a", limit: 0 }),
      (error: unknown) => error instanceof FalMcpError && error.status === 400,
    );
  });

  test("replace swaps a pending record for the accepted job in one step", async (store) => {
    await store.put(
      job("pending-1", 1, { status: "PENDING", result: undefined }),
    );
    await store.replace(
      "pending-1",
      job("req-accepted", 1, { status: "IN_QUEUE" }),
    );
    assert.equal(await store.get("pending-1"), undefined);
    assert.equal((await store.get("req-accepted"))?.status, "IN_QUEUE");
    assert.deepEqual(ids(await store.unfinished()), ["req-accepted"]);
    assert.deepEqual(
      ids((await store.list({ owner: "owner-a", limit: 10 })).jobs),
      [
        "req-accepted",
      ],
    );
  });

  test("remove deletes a record; probe succeeds on a writable store", async (store) => {
    await store.put(job("req-gone", 1));
    await store.remove("req-gone");
    await store.remove("never-there");
    assert.equal(await store.get("req-gone"), undefined);
    assert.deepEqual(
      (await store.list({ owner: "owner-a", limit: 10 })).jobs,
      [],
    );
    await store.probe();
  });

  test("unfinished includes PENDING records; UNKNOWN ones are final", async (store) => {
    await store.put(job("pending-2", 2, { status: "PENDING" }));
    await store.put(job("unknown-1", 1, { status: "UNKNOWN" }));
    assert.deepEqual(ids(await store.unfinished()), ["pending-2"]);
  });

  test("unfinished lists the non-final jobs of every owner, oldest first", async (store) => {
    await store.put(job("done", 1, { status: "COMPLETED" }));
    await store.put(
      job("queued-b", 2, { status: "IN_QUEUE", owner: "owner-b" }),
    );
    await store.put(job("failed", 3, { status: "FAILED" }));
    await store.put(job("running-a", 4, { status: "IN_PROGRESS" }));
    await store.put(
      job("cancelled", 5, { status: "CANCELLED", owner: "owner-b" }),
    );
    assert.deepEqual(ids(await store.unfinished()), ["queued-b", "running-a"]);
  });

  test("mutating a put or returned record does not change the stored one", async (store) => {
    const record = job("req-1", 1);
    const original = structuredClone(record);
    await store.put(record);
    record.status = "FAILED";
    (record.result as { images: unknown[] }).images.push("put-side mutation");
    const got = await store.get("req-1");
    assert.ok(got !== undefined);
    got.logs.push({ message: "get-side mutation" });
    (got.input as { prompt: string }).prompt = "changed";
    const listed = (await store.list({ owner: "owner-a", limit: 1 })).jobs[0];
    assert.ok(listed !== undefined);
    listed.owner = "someone-else";
    assert.deepEqual(await store.get("req-1"), original);
    assert.deepEqual((await store.list({ owner: "owner-a", limit: 1 })).jobs, [
      original,
    ]);
  });

  test("close is idempotent and later calls reject", async (store) => {
    await store.close();
    await store.close();
    await assert.rejects(store.get("req-1"), /closed/);
    await assert.rejects(store.put(job("req-1", 1)), /closed/);
  });

  test("a record with an unknown status is refused", async (store) => {
    const bad = { ...job("req-1", 1), status: "DONE" as JobStatus };
    await assert.rejects(store.put(bad), TypeError);
    assert.equal(await store.get("req-1"), undefined);
  });
}

contract(
  "MemoryJobStore",
  () =>
    Promise.resolve({
      store: new MemoryJobStore(),
      cleanup: () => Promise.resolve(),
    }),
);

contract("SqliteJobStore", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fal-mcp-jobs-" });
  return {
    store: SqliteJobStore.open(join(dir, "state", "jobs.sqlite3")),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
});

contract("RedisJobStore", async () => {
  const redis = await startRedis();
  const client = await redis.client();
  return {
    store: new RedisJobStore(client, { closeClient: true }),
    cleanup: () => redis.stop(),
  };
});

Deno.test("RedisJobStore: records survive a kill -9 of redis-server (append-only file)", async () => {
  const redis = await startRedis();
  try {
    let store = new RedisJobStore(await redis.client(), { closeClient: true });
    await store.put(
      job("req-1", 1, { status: "IN_PROGRESS", result: undefined }),
    );
    await store.put(job("req-2", 2));
    await redis.kill(true);
    await store.close();
    await redis.restart();
    store = new RedisJobStore(await redis.client(), { closeClient: true });
    assert.deepEqual(
      ids((await store.list({ owner: "owner-a", limit: 10 })).jobs),
      [
        "req-2",
        "req-1",
      ],
    );
    assert.deepEqual(ids(await store.unfinished()), ["req-1"]);
    await store.close();
  } finally {
    await redis.stop();
  }
});

Deno.test("RedisJobStore: two stores on one Redis see each other's records (instances of a cluster)", async () => {
  const redis = await startRedis();
  const a = new RedisJobStore(await redis.client(), { closeClient: true });
  const b = new RedisJobStore(await redis.client(), { closeClient: true });
  try {
    await a.put(job("req-1", 1, { status: "IN_QUEUE", result: undefined }));
    assert.equal((await b.get("req-1"))?.status, "IN_QUEUE");
    await b.put(job("req-1", 1));
    assert.deepEqual(await a.unfinished(), []);
    assert.equal((await a.get("req-1"))?.status, "COMPLETED");
  } finally {
    await a.close();
    await b.close();
    await redis.stop();
  }
});

Deno.test("SqliteJobStore: records survive closing and reopening the file (server restart)", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "jobs.sqlite3");
    const done = job("req-done", 1);
    const running = job("req-running", 2, {
      status: "IN_PROGRESS",
      result: undefined,
    });
    const first = SqliteJobStore.open(path);
    await first.put(done);
    await first.put(running);
    await first.close();

    const second = SqliteJobStore.open(path);
    try {
      assert.deepEqual(await second.get("req-done"), done);
      const page = await second.list({ owner: "owner-a", limit: 10 });
      assert.deepEqual(ids(page.jobs), ["req-running", "req-done"]);
      assert.deepEqual(ids(await second.unfinished()), ["req-running"]);
    } finally {
      await second.close();
    }
  });
});

Deno.test("SqliteJobStore: damaged rows are quarantined, skipped in listings, and kept", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "jobs.sqlite3");
    const seen: string[] = [];
    const store = SqliteJobStore.open(
      path,
      (id, reason) => seen.push(`${id}: ${reason}`),
    );
    await store.put(job("good", 1));
    await store.put(job("bad-json", 2));
    await store.put(job("bad-shape", 3));
    const db = new DatabaseSync(path);
    db.prepare("UPDATE jobs SET record = '{oops' WHERE id = 'bad-json'").run();
    db.prepare(
      `UPDATE jobs SET record = '{"id":"bad-shape"}' WHERE id = 'bad-shape'`,
    ).run();
    db.close();
    assert.deepEqual(
      ids((await store.list({ owner: "owner-a", limit: 10 })).jobs),
      ["good"],
    );
    assert.equal(await store.get("bad-json"), undefined);
    assert.deepEqual(seen.map((line) => line.split(":")[0]), [
      "bad-shape",
      "bad-json",
    ]);
    const quarantined = await store.quarantined();
    assert.deepEqual(quarantined.map((q) => q.id).sort(), [
      "bad-json",
      "bad-shape",
    ]);
    assert.match(quarantined.find((q) => q.id === "bad-json")!.row, /\{oops/);
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteJobStore: the file records its schema version and uses WAL", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "jobs.sqlite3");
    await SqliteJobStore.open(path).close();
    const db = new DatabaseSync(path);
    try {
      assert.equal(SQLITE_SCHEMA_VERSION, 2);
      assert.equal(
        db.prepare("PRAGMA user_version").get()?.user_version,
        SQLITE_SCHEMA_VERSION,
      );
      assert.equal(
        db.prepare("PRAGMA journal_mode").get()?.journal_mode,
        "wal",
      );
    } finally {
      db.close();
    }
  });
});

Deno.test("SqliteJobStore: a file with a newer schema version is refused", async () => {
  await withTempDir((dir) => {
    const path = join(dir, "jobs.sqlite3");
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => SqliteJobStore.open(path), /newer/);
  });
});

Deno.test("MemoryJobStore: past maxJobs the oldest final jobs are dropped, never unfinished ones", async () => {
  const store = new MemoryJobStore({ maxJobs: 3 });
  await store.put(job("old-running", 0, { status: "IN_PROGRESS" }));
  await store.put(job("old-done", 1, { status: "COMPLETED" }));
  await store.put(job("old-failed", 2, { status: "FAILED" }));
  await store.put(job("new-done", 3, { status: "COMPLETED" }));
  assert.equal(store.size, 3);
  assert.equal(await store.get("old-done"), undefined);
  assert.ok(await store.get("old-running"));

  await store.put(job("newer-queued", 4, { status: "IN_QUEUE" }));
  assert.equal(await store.get("old-failed"), undefined);
  await store.put(job("newest-queued", 5, { status: "IN_QUEUE" }));
  assert.equal(await store.get("new-done"), undefined);

  // Only unfinished jobs are left: the store grows past maxJobs rather than drop one.
  await store.put(job("extra-running", 6, { status: "IN_PROGRESS" }));
  assert.equal(store.size, 4);
  assert.deepEqual(ids(await store.unfinished()), [
    "old-running",
    "newer-queued",
    "newest-queued",
    "extra-running",
  ]);
});

Deno.test("MemoryJobStore: maxJobs below 1 is refused", () => {
  assert.throws(() => new MemoryJobStore({ maxJobs: 0 }), RangeError);
});

Deno.test("cursors are base64url of [createdAt, id] and decode back", () => {
  const position = { createdAt: "2026-01-01T00:00:00.000Z", id: "req-é-😀" };
  const cursor = encodeCursor(position);
  assert.match(cursor, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(
    JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")),
    [
      position.createdAt,
      position.id,
    ],
  );
  assert.deepEqual(decodeCursor(cursor), position);
});

Deno.test("openJobStore opens jobs.sqlite3 in the state dir and logs the path", async () => {
  await withTempDir(async (dir) => {
    const lines: string[] = [];
    const logger = createLogger({
      level: "info",
      write: (line) => lines.push(line),
    });
    const store = openJobStore("sqlite", join(dir, "nested"), logger);
    try {
      assert.ok(store instanceof SqliteJobStore);
      const path = join(dir, "nested", "jobs.sqlite3");
      assert.equal(store.path, path);
      assert.ok(lines.some((line) => JSON.parse(line).path === path));
      await Deno.stat(path);
    } finally {
      await store.close();
    }
  });
});

Deno.test("openJobStore memory returns a MemoryJobStore", async () => {
  const store = openJobStore("memory", "/nonexistent", silentLogger);
  assert.ok(store instanceof MemoryJobStore);
  await store.close();
});

Deno.test("openJobStore names the path and the --state-dir / --job-store fixes when it cannot open", async () => {
  await withTempDir(async (dir) => {
    // A file where the state folder should be: the folder cannot be created.
    const blocked = join(dir, "not-a-dir");
    await Deno.writeTextFile(blocked, "");
    assert.throws(
      () => openJobStore("sqlite", join(blocked, "state"), silentLogger),
      (error: unknown) =>
        error instanceof Error &&
        error.message.includes(join(blocked, "state", "jobs.sqlite3")) &&
        error.message.includes("--state-dir") &&
        error.message.includes("--job-store memory"),
    );
  });
});
