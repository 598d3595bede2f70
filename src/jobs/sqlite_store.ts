/**
 * The embedded default job store: one SQLite file on disk through the runtime's own
 * `node:sqlite`. Records survive a server restart; several processes may share the file (WAL
 * mode, busy timeout).
 *
 * @example
 * ```ts
 * import { SqliteJobStore } from "./sqlite_store.ts";
 *
 * const store = SqliteJobStore.open("/var/lib/fal-mcp/jobs.sqlite3");
 * const page = await store.list({ owner: "owner-hash", limit: 20 });
 * await store.close();
 * ```
 *
 * @module
 */

import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { checkLimit, checkRecord, decodeCursor, encodeCursor, settle } from "./query.ts";
import type { JobPage, JobQuery, JobRecord, JobStore, OwnerRewrite } from "./types.ts";

/**
 * Schema migrations in order. Migration `i` brings the database from `PRAGMA user_version` `i`
 * to `i + 1`. Append new ones; never edit a released one.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     endpoint_id TEXT NOT NULL,
     status TEXT NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     record TEXT NOT NULL -- JSON of the whole JobRecord
   ) STRICT;
   CREATE INDEX jobs_owner_created ON jobs (owner, created_at DESC, id DESC);
   CREATE INDEX jobs_status ON jobs (status);`,
];

/** The schema version (`PRAGMA user_version`) this code writes. */
export const SQLITE_SCHEMA_VERSION: number = MIGRATIONS.length;

/** How long a write waits for another process holding the lock, in milliseconds. */
const BUSY_TIMEOUT_MS = 5_000;

const FILTERS = `AND (:endpoint IS NULL OR endpoint_id = :endpoint)
  AND (:statuses IS NULL OR status IN (SELECT value FROM json_each(:statuses)))
  ORDER BY created_at DESC, id DESC
  LIMIT :limit`;

function migrate(db: DatabaseSync): void {
  const row = db.prepare("PRAGMA user_version").get();
  const version = Number(row?.user_version ?? 0);
  if (version > MIGRATIONS.length) {
    throw new Error(
      `the database has schema version ${version}, newer than ${MIGRATIONS.length} which this ` +
        "fal-mcp understands; upgrade fal-mcp or use another state directory",
    );
  }
  for (let next = version; next < MIGRATIONS.length; next++) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[next]!);
      db.exec(`PRAGMA user_version = ${next + 1}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
}

function recordOf(row: Record<string, unknown> | undefined): JobRecord | undefined {
  if (row === undefined) return undefined;
  const text = row.record;
  if (typeof text !== "string") throw new Error("Corrupt job store: a record is not text");
  return JSON.parse(text) as JobRecord;
}

/**
 * A {@linkcode JobStore} in one SQLite file. Calls run synchronously under the hood (the
 * promises resolve once the work is done), which is fine for the few writes per job a server
 * makes.
 */
export class SqliteJobStore implements JobStore {
  /** The file this store opened. */
  readonly path: string;
  #db: DatabaseSync;
  #closed = false;
  #put: StatementSync;
  #get: StatementSync;
  #listFirst: StatementSync;
  #listAfter: StatementSync;
  #unfinished: StatementSync;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
    this.#put = db.prepare(
      `INSERT INTO jobs (id, owner, endpoint_id, status, created_at, updated_at, record)
       VALUES (:id, :owner, :endpoint, :status, :created, :updated, :record)
       ON CONFLICT (id) DO UPDATE SET
         owner = excluded.owner, endpoint_id = excluded.endpoint_id, status = excluded.status,
         created_at = excluded.created_at, updated_at = excluded.updated_at,
         record = excluded.record`,
    );
    this.#get = db.prepare("SELECT record FROM jobs WHERE id = ?");
    this.#listFirst = db.prepare(`SELECT record FROM jobs WHERE owner = :owner ${FILTERS}`);
    this.#listAfter = db.prepare(
      `SELECT record FROM jobs WHERE owner = :owner AND (created_at, id) < (:created, :id)
       ${FILTERS}`,
    );
    this.#unfinished = db.prepare(
      `SELECT record FROM jobs WHERE status IN ('IN_QUEUE', 'IN_PROGRESS')
       ORDER BY created_at, id`,
    );
  }

  /**
   * Opens (creating it and its parent folders if needed) the store at `path`, and brings its
   * schema up to date. `":memory:"` opens a private in-memory database.
   *
   * @throws {Error} when the folder or file cannot be created or opened, or the file holds a
   * newer schema than this code understands.
   */
  static open(path: string): SqliteJobStore {
    if (path !== ":memory:") Deno.mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    try {
      // WAL lets readers run beside the writer and makes each commit one append to the log.
      db.exec("PRAGMA journal_mode = WAL");
      // FULL: in WAL mode every commit fsyncs the log, so a record is on disk (and survives a
      // power cut, not only a process crash) when `put` resolves. NORMAL would skip that fsync
      // and could lose the last commits on power loss; a job record points at a paid-for
      // result, and writes are few, so the fsync is worth it.
      db.exec("PRAGMA synchronous = FULL");
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      migrate(db);
      return new SqliteJobStore(path, db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** Runs `work` on the open database; errors become a rejected promise. */
  #run<T>(work: () => T): Promise<T> {
    return settle(this.#closed, work);
  }

  /** Inserts or replaces the record with `job.id`; durable (fsynced) when this resolves. */
  put(job: JobRecord): Promise<void> {
    return this.#run(() => {
      checkRecord(job);
      this.#put.run({
        id: job.id,
        owner: job.owner,
        endpoint: job.endpointId,
        status: job.status,
        created: job.createdAt,
        updated: job.updatedAt,
        record: JSON.stringify(job),
      });
    });
  }

  /** The record with this id, if any (a fresh copy). */
  get(id: string): Promise<JobRecord | undefined> {
    return this.#run(() => recordOf(this.#get.get(id)));
  }

  /**
   * One page of the owner's records, newest first by `(createdAt, id)`.
   *
   * @throws {FalMcpError} status 400 when the cursor or limit is invalid.
   */
  list(query: JobQuery): Promise<JobPage> {
    return this.#run(() => {
      const limit = checkLimit(query.limit);
      const params = {
        owner: query.owner,
        endpoint: query.endpointId ?? null,
        statuses: query.statuses === undefined ? null : JSON.stringify(query.statuses),
        limit: limit + 1,
      };
      let rows: Record<string, unknown>[];
      if (query.cursor === undefined) {
        rows = this.#listFirst.all(params);
      } else {
        const after = decodeCursor(query.cursor);
        rows = this.#listAfter.all({ ...params, created: after.createdAt, id: after.id });
      }
      const jobs = rows.slice(0, limit).map((row) => recordOf(row)!);
      const last = jobs.at(-1);
      const page: JobPage = { jobs };
      if (rows.length > limit && last !== undefined) {
        page.nextCursor = encodeCursor({ createdAt: last.createdAt, id: last.id });
      }
      return page;
    });
  }

  /** Every record in `IN_QUEUE` or `IN_PROGRESS`, of every owner, oldest first. */
  unfinished(): Promise<JobRecord[]> {
    return this.#run(() => this.#unfinished.all().map((row) => recordOf(row)!));
  }

  /** Gives the records of each owner `rewrite` maps their new owner and key id, atomically. */
  rewriteOwners(rewrite: OwnerRewrite): Promise<number> {
    return this.#run(() => {
      const owners = this.#db.prepare("SELECT DISTINCT owner FROM jobs").all()
        .map((row) => String(row.owner));
      const update = this.#db.prepare(
        `UPDATE jobs SET owner = :owner,
           record = json_set(record, '$.owner', :owner, '$.keyId', :keyId)
         WHERE owner = :from`,
      );
      let changed = 0;
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        for (const from of owners) {
          const next = rewrite(from);
          if (next === undefined) continue;
          changed += Number(update.run({ from, ...next }).changes);
        }
        this.#db.exec("COMMIT");
      } catch (error) {
        this.#db.exec("ROLLBACK");
        throw error;
      }
      return changed;
    });
  }

  /** Closes the database; later calls are no-ops. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#db.close();
    }
    return Promise.resolve();
  }
}
