/**
 * An in-memory job store for tests and `--job-store memory`. It behaves like the SQLite store
 * (same ordering, cursor format and errors) but forgets everything when the process ends, and it
 * is bounded: past `maxJobs` records the oldest final jobs are dropped.
 *
 * @example
 * ```ts
 * import { MemoryJobStore } from "./memory_store.ts";
 *
 * const store = new MemoryJobStore({ maxJobs: 1_000 });
 * const page = await store.list({ owner: "owner-hash", limit: 20 });
 * ```
 *
 * @module
 */

import {
  checkLimit,
  checkRecord,
  compareNewestFirst,
  decodeCursor,
  encodeCursor,
  type JobPosition,
  settle,
} from "./query.ts";
import {
  isFinal,
  type JobPage,
  type JobQuery,
  type JobRecord,
  type JobStatus,
  type JobStore,
  type OwnerRewrite,
} from "./types.ts";

/** Options for {@linkcode MemoryJobStore}. */
export interface MemoryJobStoreOptions {
  /**
   * How many records to keep (default 10 000). Past it, the oldest final jobs are dropped;
   * unfinished jobs are never dropped, so the store may hold more when all of them are running.
   */
  maxJobs?: number | undefined;
}

/** The default of {@linkcode MemoryJobStoreOptions.maxJobs}. */
const DEFAULT_MAX_MEMORY_JOBS = 10_000;

/** A stored record: the fields queries look at, and the record as JSON (a private copy). */
interface Entry extends JobPosition {
  owner: string;
  endpointId: string;
  status: JobStatus;
  json: string;
}

function recordOf(entry: Entry): JobRecord {
  return JSON.parse(entry.json) as JobRecord;
}

/**
 * A {@linkcode JobStore} in memory. Records are copied through JSON on the way in and out (as the
 * SQLite store does), so callers can never change stored state by mutating a record.
 */
export class MemoryJobStore implements JobStore {
  /** The most records kept before old final jobs are dropped. */
  readonly maxJobs: number;
  #entries = new Map<string, Entry>();
  #closed = false;

  /**
   * Creates an empty store.
   *
   * @throws {RangeError} when `maxJobs` is not a positive integer.
   */
  constructor(options: MemoryJobStoreOptions = {}) {
    const maxJobs = options.maxJobs ?? DEFAULT_MAX_MEMORY_JOBS;
    if (!Number.isSafeInteger(maxJobs) || maxJobs < 1) {
      throw new RangeError(`maxJobs must be a positive integer, got ${maxJobs}`);
    }
    this.maxJobs = maxJobs;
  }

  /** How many records the store holds. */
  get size(): number {
    return this.#entries.size;
  }

  /** Runs `work` on the open store; errors become a rejected promise. */
  #run<T>(work: () => T): Promise<T> {
    return settle(this.#closed, work);
  }

  /** Inserts or replaces the record with `job.id` (a copy), then drops old final jobs if over. */
  put(job: JobRecord): Promise<void> {
    return this.#run(() => {
      checkRecord(job);
      this.#entries.set(job.id, {
        id: job.id,
        createdAt: job.createdAt,
        owner: job.owner,
        endpointId: job.endpointId,
        status: job.status,
        json: JSON.stringify(job),
      });
      this.#evict();
    });
  }

  /** Writes `job` and deletes the record `previousId` in one step. */
  replace(previousId: string, job: JobRecord): Promise<void> {
    return this.#run(() => {
      checkRecord(job);
      this.#entries.delete(previousId);
      this.#entries.set(job.id, {
        id: job.id,
        createdAt: job.createdAt,
        owner: job.owner,
        endpointId: job.endpointId,
        status: job.status,
        json: JSON.stringify(job),
      });
      this.#evict();
    });
  }

  /** Deletes the record with this id, if any. */
  remove(id: string): Promise<void> {
    return this.#run(() => void this.#entries.delete(id));
  }

  /** Always writable while open (memory). */
  probe(): Promise<void> {
    return this.#run(() => {});
  }

  /** The record with this id, if any (a fresh copy). */
  get(id: string): Promise<JobRecord | undefined> {
    return this.#run(() => {
      const entry = this.#entries.get(id);
      return entry === undefined ? undefined : recordOf(entry);
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
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      const statuses = query.statuses;
      const matches: Entry[] = [];
      for (const entry of this.#entries.values()) {
        if (entry.owner !== query.owner) continue;
        if (query.endpointId !== undefined && entry.endpointId !== query.endpointId) continue;
        if (statuses !== undefined && !statuses.includes(entry.status)) continue;
        if (after !== undefined && compareNewestFirst(entry, after) <= 0) continue;
        matches.push(entry);
      }
      matches.sort(compareNewestFirst);
      const jobs = matches.slice(0, limit).map(recordOf);
      const last = jobs.at(-1);
      const page: JobPage = { jobs };
      if (matches.length > limit && last !== undefined) {
        page.nextCursor = encodeCursor({ createdAt: last.createdAt, id: last.id });
      }
      return page;
    });
  }

  /** Every record in `PENDING`, `IN_QUEUE` or `IN_PROGRESS`, of every owner, oldest first. */
  unfinished(): Promise<JobRecord[]> {
    return this.#run(() =>
      [...this.#entries.values()]
        .filter((entry) => !isFinal(entry.status))
        .sort((a, b) => compareNewestFirst(b, a))
        .map(recordOf)
    );
  }

  /** Gives the records of each owner `rewrite` maps their new owner and key id. */
  rewriteOwners(rewrite: OwnerRewrite): Promise<number> {
    return this.#run(() => {
      let changed = 0;
      for (const entry of this.#entries.values()) {
        const next = rewrite(entry.owner);
        if (next === undefined) continue;
        const record = recordOf(entry);
        entry.owner = next.owner;
        entry.json = JSON.stringify({ ...record, owner: next.owner, keyId: next.keyId });
        changed++;
      }
      return changed;
    });
  }

  /** Drops every record; later calls are no-ops. */
  close(): Promise<void> {
    this.#closed = true;
    this.#entries.clear();
    return Promise.resolve();
  }

  /** While over `maxJobs`, drops the oldest final job; stops when only unfinished ones remain. */
  #evict(): void {
    while (this.#entries.size > this.maxJobs) {
      let oldest: Entry | undefined;
      for (const entry of this.#entries.values()) {
        if (
          isFinal(entry.status) && (oldest === undefined || compareNewestFirst(entry, oldest) > 0)
        ) {
          oldest = entry;
        }
      }
      if (oldest === undefined) return;
      this.#entries.delete(oldest.id);
    }
  }
}
