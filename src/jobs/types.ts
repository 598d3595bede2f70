/**
 * Job records: every fal job this server submitted. A record is written ahead, as `PENDING`,
 * before the submit leaves for fal, and gets fal's request id as soon as fal answers; so a
 * timed-out client, a killed process or a restarted server can always find a paid-for result
 * again.
 *
 * @module
 */

/**
 * Where a job stands. `PENDING`: recorded, the submit is being sent and fal's request id is not
 * known yet. `UNKNOWN`: the submit's outcome could not be established (the process stopped
 * while sending it and fal's request listing did not show it); the record says how to look for
 * it. `COMPLETED`, `FAILED`, `CANCELLED` and `UNKNOWN` are final.
 */
export type JobStatus =
  | "PENDING"
  | "IN_QUEUE"
  | "IN_PROGRESS"
  | "COMPLETED"
  | "FAILED"
  | "CANCELLED"
  | "UNKNOWN";

/** Every job status, for validation and filters. */
export const JOB_STATUSES: readonly JobStatus[] = [
  "PENDING",
  "IN_QUEUE",
  "IN_PROGRESS",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "UNKNOWN",
];

/** {@linkcode JobRecord.keyId} of jobs paid with the server's own fal key. */
export const SERVER_KEY = "server";

/** Whether a status is final (the job will not change again). */
export function isFinal(status: JobStatus): boolean {
  return status === "COMPLETED" || status === "FAILED" || status === "CANCELLED" ||
    status === "UNKNOWN";
}

/** The prefix of the provisional id a `PENDING` record has until fal's request id is known. */
export const PENDING_ID_PREFIX = "pending-";

/** One log line kept with a job. */
export interface JobLog {
  /** The text. */
  message: string;
  /** ISO timestamp, when fal gave one. */
  timestamp?: string | undefined;
}

/** A job record. */
export interface JobRecord {
  /** The job id: fal's request id (a provisional `pending-…` id while `PENDING`). */
  id: string;
  /** The endpoint the job was submitted to, e.g. `fal-ai/flux/dev`. */
  endpointId: string;
  /**
   * Whose job it is: the id of the principal that submitted it (`local`, `token:…`, `oauth:…`,
   * `byok:…`). Records of earlier versions held a fal-key hash here; they are migrated at
   * start (see `legacy_owners.ts`).
   */
  owner: string;
  /**
   * Which fal key follows it: {@linkcode SERVER_KEY} (the server's `FAL_KEY`, whatever it is
   * now, so rotating the key keeps following), or the id of the caller's own key (BYOK), which
   * only that key can follow. Absent on records written before ownership followed principals.
   */
  keyId?: string | undefined;
  /**
   * In a cluster, the instance that wrote it as `PENDING` (its submit may still be under way
   * there): another instance settles it only once that one is gone.
   */
  submittedBy?: string | undefined;
  /** Where it stands. */
  status: JobStatus;
  /** Position in fal's queue while `IN_QUEUE`. */
  queuePosition?: number | undefined;
  /** The most recent log lines (bounded). */
  logs: JobLog[];
  /** The input that was submitted. */
  input: unknown;
  /** The model's output, once fetched. */
  result?: unknown;
  /** Why it failed, when `FAILED`. */
  error?: string | undefined;
  /** fal's metrics once completed (e.g. `inference_time`). */
  metrics?: Record<string, unknown> | undefined;
  /** Which tool submitted it (e.g. `generate_video`). */
  tool?: string | undefined;
  /** When fal accepted it (ISO 8601). */
  createdAt: string;
  /** Last change (ISO 8601). */
  updatedAt: string;
  /** When it reached a final status (ISO 8601). */
  finishedAt?: string | undefined;
}

/** Filter and page for {@linkcode JobStore.list}. */
export interface JobQuery {
  /** Only jobs of this owner. */
  owner: string;
  /** Only jobs in these statuses. */
  statuses?: readonly JobStatus[] | undefined;
  /** Only jobs of this endpoint. */
  endpointId?: string | undefined;
  /** Page size. */
  limit: number;
  /** Opaque cursor from a previous page. */
  cursor?: string | undefined;
}

/** A page of jobs, newest first. */
export interface JobPage {
  /** The jobs. */
  jobs: JobRecord[];
  /** Cursor of the next page, if any. */
  nextCursor?: string | undefined;
}

/** Maps a stored owner to its new owner and key id, or `undefined` to leave its records. */
export type OwnerRewrite = (owner: string) => { owner: string; keyId: string } | undefined;

/**
 * Where job records live. The embedded default is SQLite on disk (`node:sqlite`); an in-memory
 * store serves tests and `--job-store memory`. Another backend (Redis) implements the same five
 * calls.
 */
export interface JobStore {
  /** Inserts or replaces a record. Durable when the promise resolves. */
  put(job: JobRecord): Promise<void>;
  /** The record with this id, if any. */
  get(id: string): Promise<JobRecord | undefined>;
  /** Records matching the query, newest first. */
  list(query: JobQuery): Promise<JobPage>;
  /**
   * Every record not in a final status, `PENDING` ones included (to settle and resume them after
   * a restart).
   */
  unfinished(): Promise<JobRecord[]>;
  /**
   * Writes `job` and removes the record `previousId` in one durable step (a `PENDING` record
   * becoming the job fal accepted).
   */
  replace(previousId: string, job: JobRecord): Promise<void>;
  /** Deletes the record with this id, if any (a submit fal refused leaves no record). */
  remove(id: string): Promise<void>;
  /**
   * Proves the store can write now (a tiny durable write); rejects with the reason when it
   * cannot (disk full, read-only).
   */
  probe(): Promise<void>;
  /**
   * Gives the records of each owner `rewrite` maps a new owner and key id (a one-time migration
   * of records written by earlier versions). Answers how many records changed.
   */
  rewriteOwners(rewrite: OwnerRewrite): Promise<number>;
  /** Flushes and releases the store. */
  close(): Promise<void>;
}
