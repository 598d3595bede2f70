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
  // Records that could not be read are moved here (never deleted), so one damaged row never
  // stops the server; `probe` writes its one row to `health`.
  `CREATE TABLE quarantine (
     id TEXT NOT NULL,
     quarantined_at TEXT NOT NULL,
     reason TEXT NOT NULL,
     row TEXT NOT NULL -- JSON of the damaged row as it was read
   ) STRICT;
   CREATE TABLE health (id INTEGER PRIMARY KEY CHECK (id = 1), probed_at TEXT NOT NULL) STRICT;`,
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

/** A row that cannot be read as a job record. */
class DamagedRecord extends Error {}

/** Parses a row's record, checking the fields queries and followers rely on. */
function parseRecord(row: Record<string, unknown>): JobRecord {
  const text = row.record;
  if (typeof text !== "string") throw new DamagedRecord("the record is not text");
  let record: JobRecord;
  try {
    record = JSON.parse(text) as JobRecord;
  } catch (error) {
    throw new DamagedRecord(`the record is not JSON (${(error as Error).message})`);
  }
  if (record === null || typeof record !== "object" || Array.isArray(record)) {
    throw new DamagedRecord("the record is not an object");
  }
  try {
    checkRecord(record);
  } catch (error) {
    throw new DamagedRecord((error as Error).message);
  }
  if (record.id !== row.id) throw new DamagedRecord("the record's id differs from its row");
  if (!Array.isArray(record.logs)) throw new DamagedRecord("the record's logs are not a list");
  return record;
}

/** Called with every record moved to quarantine (for logging). */
export type QuarantineListener = (id: string, reason: string) => void;

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
  #delete: StatementSync;
  #quarantine: StatementSync;
  #probe: StatementSync;
  #onQuarantine: QuarantineListener | undefined;

  private constructor(path: string, db: DatabaseSync, onQuarantine?: QuarantineListener) {
    this.path = path;
    this.#db = db;
    this.#onQuarantine = onQuarantine;
    this.#put = db.prepare(
      `INSERT INTO jobs (id, owner, endpoint_id, status, created_at, updated_at, record)
       VALUES (:id, :owner, :endpoint, :status, :created, :updated, :record)
       ON CONFLICT (id) DO UPDATE SET
         owner = excluded.owner, endpoint_id = excluded.endpoint_id, status = excluded.status,
         created_at = excluded.created_at, updated_at = excluded.updated_at,
         record = excluded.record`,
    );
    this.#get = db.prepare("SELECT id, record FROM jobs WHERE id = ?");
    this.#listFirst = db.prepare(`SELECT id, record FROM jobs WHERE owner = :owner ${FILTERS}`);
    this.#listAfter = db.prepare(
      `SELECT id, record FROM jobs WHERE owner = :owner AND (created_at, id) < (:created, :id)
       ${FILTERS}`,
    );
    this.#unfinished = db.prepare(
      `SELECT id, record FROM jobs WHERE status IN ('PENDING', 'IN_QUEUE', 'IN_PROGRESS')
       ORDER BY created_at, id`,
    );
    this.#delete = db.prepare("DELETE FROM jobs WHERE id = ?");
    this.#quarantine = db.prepare(
      `INSERT INTO quarantine (id, quarantined_at, reason, row)
       SELECT id, :at, :reason, json_object('owner', owner, 'endpoint_id', endpoint_id,
         'status', status, 'created_at', created_at, 'updated_at', updated_at, 'record', record)
       FROM jobs WHERE id = :id`,
    );
    this.#probe = db.prepare(
      `INSERT INTO health (id, probed_at) VALUES (1, :at)
       ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at`,
    );
  }

  /**
   * The records of `rows`; a row that cannot be read is moved to the `quarantine` table (kept,
   * never deleted) and skipped, so one damaged record never stops a listing or a start.
   */
  #records(rows: Record<string, unknown>[]): JobRecord[] {
    const records: JobRecord[] = [];
    for (const row of rows) {
      try {
        records.push(parseRecord(row));
      } catch (error) {
        if (!(error instanceof DamagedRecord)) throw error;
        this.#quarantineRow(String(row.id), error.message);
      }
    }
    return records;
  }

  #quarantineRow(id: string, reason: string): void {
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        this.#quarantine.run({ id, at: new Date().toISOString(), reason });
        this.#delete.run(id);
        this.#db.exec("COMMIT");
      } catch (error) {
        this.#db.exec("ROLLBACK");
        throw error;
      }
    } catch {
      // The store cannot write now: the row stays where it is and is skipped again next time.
    }
    this.#onQuarantine?.(id, reason);
  }

  /**
   * Opens (creating it and its parent folders if needed) the store at `path`, and brings its
   * schema up to date. `":memory:"` opens a private in-memory database.
   *
   * @throws {Error} when the folder or file cannot be created or opened, or the file holds a
   * newer schema than this code understands.
   */
  static open(path: string, onQuarantine?: QuarantineListener): SqliteJobStore {
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
      return new SqliteJobStore(path, db, onQuarantine);
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

  /**
   * Writes `job` and deletes the record `previousId` in one transaction; durable when this
   * resolves.
   */
  replace(previousId: string, job: JobRecord): Promise<void> {
    return this.#run(() => {
      checkRecord(job);
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        this.#delete.run(previousId);
        this.#put.run({
          id: job.id,
          owner: job.owner,
          endpoint: job.endpointId,
          status: job.status,
          created: job.createdAt,
          updated: job.updatedAt,
          record: JSON.stringify(job),
        });
        this.#db.exec("COMMIT");
      } catch (error) {
        this.#db.exec("ROLLBACK");
        throw error;
      }
    });
  }

  /** Deletes the record with this id, if any; durable when this resolves. */
  remove(id: string): Promise<void> {
    return this.#run(() => void this.#delete.run(id));
  }

  /** Writes one row durably; rejects when the file cannot be written (full or read-only). */
  probe(): Promise<void> {
    return this.#run(() => void this.#probe.run({ at: new Date().toISOString() }));
  }

  /** The record with this id, if any (a fresh copy); a damaged one is quarantined. */
  get(id: string): Promise<JobRecord | undefined> {
    return this.#run(() => {
      const row = this.#get.get(id);
      return row === undefined ? undefined : this.#records([row])[0];
    });
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
      const jobs = this.#records(rows.slice(0, limit));
      const last = jobs.at(-1);
      const page: JobPage = { jobs };
      if (rows.length > limit && last !== undefined) {
        page.nextCursor = encodeCursor({ createdAt: last.createdAt, id: last.id });
      }
      return page;
    });
  }

  /** Every record in `PENDING`, `IN_QUEUE` or `IN_PROGRESS`, of every owner, oldest first. */
  unfinished(): Promise<JobRecord[]> {
    return this.#run(() => this.#records(this.#unfinished.all()));
  }

  /** The quarantined rows, oldest first (for operators and tests). */
  quarantined(): Promise<{ id: string; reason: string; quarantinedAt: string; row: string }[]> {
    return this.#run(() =>
      this.#db.prepare("SELECT id, reason, quarantined_at, row FROM quarantine ORDER BY rowid")
        .all().map((r) => ({
          id: String(r.id),
          reason: String(r.reason),
          quarantinedAt: String(r.quarantined_at),
          row: String(r.row),
        }))
    );
  }

  /** Gives the records of each owner `rewrite` maps their new owner and key id, atomically. */
  rewriteOwners(rewrite: OwnerRewrite): Promise<number> {
    return this.#run(() => {
      const owners = this.#db.prepare("SELECT DISTINCT owner FROM jobs").all()
        .map((row) => String(row.owner));
      const update = this.#db.prepare(
        `UPDATE jobs SET owner = :owner,
           record = json_set(record, '$.owner', :owner, '$.keyId', :keyId)
         WHERE owner = :from AND json_valid(record) -- damaged rows are quarantined on read
        `,
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
