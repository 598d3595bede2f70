/**
 * The job machinery every generating tool shares. A submit is recorded the moment fal accepts
 * it; a follower per job tracks fal's status stream (falling back to polling), keeps queue
 * position and recent logs, and fetches the result as soon as the job completes (fal drops large
 * results after minutes). Callers wait on a job with a bound, or come back later; after a
 * restart, unfinished jobs are followed again.
 *
 * @module
 */

import { JobListChanges } from "./list_changes.ts";
import type { FalClient } from "../fal/client.ts";
import { FalApiError } from "../fal/errors.ts";
import { waitForCompletion } from "../fal/follow_job.ts";
import type { QueueStatus } from "../fal/types.ts";
import { FalMcpError, JsonRpcCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { sleep } from "../sleep.ts";
import type { JobCoordinator } from "./coordinator.ts";
import { JobEvents } from "./events.ts";
import {
  isFinal,
  type JobPage,
  type JobQuery,
  type JobRecord,
  type JobStore,
  SERVER_KEY,
} from "./types.ts";

/** Options for {@linkcode JobManager}. */
export interface JobManagerOptions {
  /** Where records live. */
  store: JobStore;
  /** Logger. */
  logger: Logger;
  /** Status polling interval when fal's stream is unavailable (default 1000 ms). */
  pollIntervalMs?: number;
  /** Log lines kept per job (default 50). */
  maxLogs?: number;
  /** Metrics registry for job counts. */
  metrics?: Metrics | undefined;
  /** Largest result kept whole, in bytes; over it only the media URLs are kept (default: no cap). */
  maxResultBytes?: number | undefined;
  /**
   * The client of the server's own fal key. Jobs it submits are recorded as paid by the server
   * key (not by this key in particular), so after the key is rotated they are followed with the
   * new one.
   */
  serverFal?: FalClient | undefined;
  /**
   * A cluster's leases and change channel: each job is followed by the one instance holding its
   * lease, and changes wake waiters on every instance. Absent: a single instance.
   */
  coordinator?: JobCoordinator | undefined;
  /** fal posts each job's outcome here (`?fal_webhook=`), when set. */
  webhookUrl?: string | undefined;
  /** With a coordinator: how often unfinished jobs nobody follows are taken over (default 2000 ms). */
  takeoverIntervalMs?: number;
}

/**
 * Who acts on a job: the caller's principal (who owns it) and the fal client of the key they
 * act with. A tool's `ServerDeps` is one.
 */
export interface JobCaller {
  /** The caller; jobs are stored under and looked up by its id. */
  readonly principal: { readonly id: string };
  /** The caller's fal client. */
  readonly fal: FalClient;
}

/** Options for {@linkcode JobManager.wait}. */
export interface WaitOptions {
  /** Stop waiting (not the job) after this long; undefined waits until the job ends. */
  timeoutMs?: number | undefined;
  /** Stop waiting (not the job) when aborted. */
  signal?: AbortSignal | undefined;
  /** Called with each fal status while waiting (for progress). */
  onStatus?: ((status: QueueStatus) => void) | undefined;
}

type Listener = (record: JobRecord, status?: QueueStatus) => void;

/** Submits, follows, persists and cancels fal jobs. */
export class JobManager {
  readonly #store: JobStore;
  readonly #log: Logger;
  readonly #pollIntervalMs: number;
  readonly #maxLogs: number;
  readonly #followers = new Map<string, Promise<void>>();
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #writes = new Map<string, Promise<JobRecord | undefined>>();
  readonly #stopping = new AbortController();
  readonly #metrics: Metrics | undefined;
  readonly #maxResultBytes: number | undefined;
  readonly #serverFal: FalClient | undefined;
  readonly #coordinator: JobCoordinator | undefined;
  readonly #webhookUrl: string | undefined;
  #takeover: ReturnType<typeof setInterval> | undefined;
  /** Every job creation and change, for live views (subscriptions, task notifications). */
  readonly events: JobEvents = new JobEvents();

  /** Creates a manager over a store. */
  constructor(options: JobManagerOptions) {
    this.#store = options.store;
    this.#log = options.logger;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#maxLogs = options.maxLogs ?? 50;
    this.#metrics = options.metrics;
    this.#maxResultBytes = options.maxResultBytes;
    this.#serverFal = options.serverFal;
    this.#coordinator = options.coordinator;
    this.#webhookUrl = options.webhookUrl;
    if (this.#coordinator) {
      this.#coordinator.onUpdate(({ record, status }) => this.#notify(record, status));
      // A job whose follower's instance died has no lease any more: some instance takes it over.
      this.#takeover = setInterval(
        () => void this.#followUnfinished().catch(() => {}),
        options.takeoverIntervalMs ?? 2000,
      );
    }
    this.#metrics?.gauge(
      "fal_mcp_jobs_followed",
      "Jobs being followed at fal now",
      () => [[{}, this.#followers.size]],
    );
  }

  #countStatus(status: string): void {
    this.#metrics?.inc("fal_mcp_jobs_total", "Jobs reaching each status", { status });
  }

  /** "This owner's job list changed" events (a job recorded or changing status). */
  readonly listChanges: JobListChanges = new JobListChanges();

  /** The store (for resources and listings). */
  get store(): JobStore {
    return this.#store;
  }

  /**
   * Submits a job and records it before answering; following starts in the background.
   * Answers the new record.
   */
  async submit(
    caller: JobCaller,
    endpointId: string,
    input: unknown,
    options: { tool?: string; signal?: AbortSignal } = {},
  ): Promise<JobRecord> {
    const { fal } = caller;
    const submission = await fal.submit(endpointId, input, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(this.#webhookUrl ? { webhookUrl: this.#webhookUrl } : {}),
    });
    const now = new Date().toISOString();
    const record: JobRecord = {
      id: submission.request_id,
      endpointId,
      owner: caller.principal.id,
      keyId: fal === this.#serverFal ? SERVER_KEY : fal.owner,
      status: "IN_QUEUE",
      queuePosition: submission.queue_position,
      logs: [],
      input,
      tool: options.tool,
      createdAt: now,
      updatedAt: now,
    };
    await this.#store.put(record);
    this.#countStatus(record.status);
    this.events.publish({ kind: "created", record });
    this.listChanges.emit(record.owner);
    this.#log.info("fal job submitted", { job_id: record.id, endpoint_id: endpointId });
    this.#follow(fal, record);
    return record;
  }

  /**
   * The caller's job with this id. Another principal's job is reported exactly like an id that
   * never existed. An unfinished job nobody follows (after a restart) is followed again when the
   * caller's key can.
   */
  async get(caller: JobCaller, id: string): Promise<JobRecord> {
    const record = await this.#owned(caller, id);
    if (!isFinal(record.status)) {
      const fal = this.#followerFor(caller, record);
      if (fal) this.#follow(fal, record);
    }
    return record;
  }

  async #owned(caller: JobCaller, id: string): Promise<JobRecord> {
    const record = await this.#store.get(id);
    if (!record || record.owner !== caller.principal.id) {
      throw new FalMcpError(
        `Unknown job id "${id}": you have no job with this id. Use list_jobs to see your jobs.`,
        { status: 404, code: JsonRpcCode.InvalidParams },
      );
    }
    return record;
  }

  /**
   * The client that may follow and cancel a job: the server's current key for jobs it paid,
   * else only the caller's own key when it is the one that submitted the job.
   */
  #followerFor(caller: JobCaller, record: JobRecord): FalClient | undefined {
    if (record.keyId === undefined) return this.#serverFal ?? caller.fal;
    if (record.keyId === SERVER_KEY) return this.#serverFal;
    if (caller.fal.owner === record.keyId) return caller.fal;
    return this.#serverFal?.owner === record.keyId ? this.#serverFal : undefined;
  }

  /** The caller's jobs, newest first. */
  async list(query: JobQuery): Promise<JobPage> {
    return await this.#store.list(query);
  }

  /**
   * Waits until the job is final, the timeout passes or the signal aborts; answers the record
   * as it then stands. Following is (re)started with `fal` if nothing follows the job.
   */
  async wait(caller: JobCaller, id: string, options: WaitOptions = {}): Promise<JobRecord> {
    let record = await this.#owned(caller, id);
    if (isFinal(record.status)) return record;
    const fal = this.#followerFor(caller, record);
    // Nothing can follow it with the caller's key: the record as it stands is all there is.
    if (!fal && !this.#followers.has(id) && !this.#coordinator) return record;
    if (fal) this.#follow(fal, record);
    const { promise, resolve } = Promise.withResolvers<void>();
    const listener: Listener = (updated, status) => {
      record = updated;
      if (status) options.onStatus?.(status);
      if (isFinal(updated.status)) resolve();
    };
    this.#subscribe(id, listener);
    const onAbort = () => resolve();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const timer = options.timeoutMs === undefined
      ? undefined
      : setTimeout(resolve, options.timeoutMs);
    try {
      // The job may have finished between the read above and the subscription.
      const latest = await this.#store.get(id);
      if (latest && isFinal(latest.status)) return latest;
      await promise;
      return record;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      this.#unsubscribe(id, listener);
    }
  }

  /** Asks fal to cancel the caller's job; answers the record afterwards. */
  async cancel(caller: JobCaller, id: string): Promise<{ outcome: string; record: JobRecord }> {
    const record = await this.#owned(caller, id);
    if (isFinal(record.status)) return { outcome: "ALREADY_FINISHED", record };
    const fal = this.#followerFor(caller, record);
    if (!fal) {
      throw new FalMcpError(
        `Cannot cancel job "${id}": it was submitted with another fal key, and only that key ` +
          "can cancel it at fal. Send that key (X-Fal-Key) and try again.",
        { status: 409, code: JsonRpcCode.InvalidParams },
      );
    }
    const outcome = await fal.cancel(record.endpointId, id);
    if (outcome === "CANCELLATION_REQUESTED") {
      // Keep following: if fal finishes the job anyway, its (paid-for) result is still kept.
      const updated = await this.#update(id, {
        status: "CANCELLED",
        error: "Cancelled on request",
      });
      this.#follow(fal, updated ?? record);
      return { outcome, record: updated ?? record };
    }
    return { outcome, record };
  }

  /**
   * Follows again, with the server's current key, every unfinished job the server's key paid
   * for (after a restart, also after the key was rotated). Jobs paid with a caller's own key
   * are followed again when that key comes back (any read of the job by its owner).
   */
  async resume(): Promise<number> {
    const { resumed, waiting } = await this.#followUnfinished();
    if (resumed || waiting) {
      this.#log.info("following unfinished jobs again", {
        jobs: resumed,
        waiting_for_caller_key: waiting,
      });
    }
    return resumed;
  }

  async #followUnfinished(): Promise<{ resumed: number; waiting: number }> {
    const fal = this.#serverFal;
    if (!fal?.hasKey || this.#stopping.signal.aborted) return { resumed: 0, waiting: 0 };
    let resumed = 0;
    let waiting = 0;
    for (const record of await this.#store.unfinished()) {
      const server = record.keyId === undefined || record.keyId === SERVER_KEY ||
        record.keyId === fal.owner;
      if (!server) {
        waiting++;
        continue;
      }
      if (this.#followers.has(record.id)) continue;
      this.#follow(fal, record);
      resumed++;
    }
    return { resumed, waiting };
  }

  /**
   * Settles a job from fal's (verified) webhook: its result or error as fal posted it. Idempotent:
   * a job already final, or unknown here, is left as it is. Answers whether the record changed.
   */
  async settleFromWebhook(
    id: string,
    outcome: { ok: boolean; payload: unknown; error?: string | undefined },
  ): Promise<boolean> {
    const record = await this.#store.get(id);
    if (!record || isFinal(record.status)) return false;
    const updated = await this.#mutate(id, (current) => {
      if (isFinal(current.status)) return {};
      return outcome.ok
        ? { status: "COMPLETED", result: outcome.payload, error: undefined }
        : { status: "FAILED", error: outcome.error ?? "fal reported an error" };
    });
    return updated !== undefined && updated.status !== record.status;
  }

  /** Stops following (jobs go on at fal and are picked up again on the next start). */
  async close(): Promise<void> {
    clearInterval(this.#takeover);
    this.#stopping.abort(new DOMException("server stopping", "AbortError"));
    await Promise.allSettled([...this.#followers.values()]);
    await this.#store.close();
  }

  #follow(fal: FalClient, record: JobRecord): void {
    if (this.#followers.has(record.id) || this.#stopping.signal.aborted) return;
    const follower = this.#leaseAndFollow(fal, record)
      .catch((error) => this.#log.error("job follower failed", { job_id: record.id, error }))
      .finally(() => this.#followers.delete(record.id));
    this.#followers.set(record.id, follower);
  }

  /** Follows the job; in a cluster only under its lease, and only while the lease is held. */
  async #leaseAndFollow(fal: FalClient, record: JobRecord): Promise<void> {
    if (!this.#coordinator) return await this.#runFollower(fal, record, this.#stopping.signal);
    const lease = await this.#coordinator.acquire(record.id);
    if (!lease) return;
    try {
      // Another instance may have finished the job before this one took the lease.
      const current = await this.#store.get(record.id);
      if (!current || (isFinal(current.status) && !isFinal(record.status))) return;
      this.#log.debug("following a job under its lease", { job_id: record.id });
      await this.#runFollower(fal, record, AbortSignal.any([this.#stopping.signal, lease.signal]));
    } finally {
      await lease.release();
    }
  }

  async #runFollower(fal: FalClient, record: JobRecord, signal: AbortSignal): Promise<void> {
    const { id, endpointId } = record;
    let final: QueueStatus | undefined;
    for (let attempt = 1; !final; attempt++) {
      try {
        final = await waitForCompletion(fal, endpointId, id, {
          signal,
          logger: this.#log,
          pollIntervalMs: this.#pollIntervalMs,
          onStatus: (status) => void this.#onStatus(id, status).catch(() => {}),
        });
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof FalApiError && error.falStatus === 404) {
          await this.#update(id, {
            status: "FAILED",
            error: `fal no longer knows request ${id} (${error.message})`,
          });
          return;
        }
        // A transient failure (fal unreachable, 5xx after retries): keep trying, slower.
        this.#log.warn("following a job failed; retrying", { job_id: id, attempt, error });
        try {
          await sleep(Math.min(30_000, this.#pollIntervalMs * 2 ** Math.min(attempt, 5)), signal);
        } catch {
          return;
        }
      }
    }
    if (final.error) {
      const cancelled = final.error_type === "client_cancelled";
      await this.#update(id, {
        status: cancelled ? "CANCELLED" : "FAILED",
        error: `${final.error}${final.error_type && !cancelled ? ` (${final.error_type})` : ""}`,
        metrics: final.metrics,
      });
      return;
    }
    try {
      // fal's webhook may have brought the result already: it is not fetched again.
      const settled = await this.#store.get(id);
      if (settled?.status === "COMPLETED" && settled.result !== undefined) return;
      const result = await fal.result(endpointId, id, { signal, maxBytes: this.#maxResultBytes });
      await this.#update(id, {
        status: "COMPLETED",
        result,
        metrics: final.metrics,
        error: undefined,
      });
      this.#log.info("fal job completed", { job_id: id, endpoint_id: endpointId });
    } catch (error) {
      if (signal.aborted) return;
      const message = error instanceof Error ? error.message : String(error);
      await this.#update(id, { status: "FAILED", error: message, metrics: final.metrics });
    }
  }

  #onStatus(id: string, status: QueueStatus): Promise<JobRecord | undefined> {
    return this.#mutate(id, (current) => {
      const logs = [...current.logs];
      for (const log of status.logs ?? []) {
        if (!logs.some((l) => l.message === log.message && l.timestamp === log.timestamp)) {
          logs.push({ message: log.message, timestamp: log.timestamp });
        }
      }
      const next: Partial<JobRecord> = { logs: logs.slice(-this.#maxLogs) };
      if (!isFinal(current.status)) {
        next.status = status.status === "COMPLETED" ? "IN_PROGRESS" : status.status;
        next.queuePosition = status.status === "IN_QUEUE" ? status.queue_position : undefined;
      }
      return next;
    }, status);
  }

  #update(id: string, changes: Partial<JobRecord>): Promise<JobRecord | undefined> {
    return this.#mutate(id, (current) => {
      // A cancelled job that then fails stays cancelled; one that completes keeps its result.
      if (current.status === "CANCELLED" && changes.status === "FAILED") {
        return { ...changes, status: "CANCELLED" };
      }
      return changes;
    });
  }

  /**
   * Applies a change to a record. Changes to one job run one after another, so a late status
   * update can never overwrite a final state written before it.
   */
  #mutate(
    id: string,
    change: (current: JobRecord) => Partial<JobRecord>,
    status?: QueueStatus,
  ): Promise<JobRecord | undefined> {
    const previous = this.#writes.get(id) ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(async () => {
      const current = await this.#store.get(id);
      if (!current) return undefined;
      const changes = change(current);
      const now = new Date().toISOString();
      const updated: JobRecord = { ...current, ...changes, updatedAt: now };
      if (changes.status && isFinal(changes.status) && !isFinal(current.status)) {
        updated.finishedAt = now;
      }
      await this.#store.put(updated);
      if (updated.status !== current.status) {
        this.#countStatus(updated.status);
        this.listChanges.emit(updated.owner);
      }
      this.#notify(updated, status);
      this.events.publish({ kind: "updated", record: updated, previous: current.status });
      this.#coordinator?.publish({ record: updated, status }).catch((error) =>
        this.#log.warn("announcing a job change failed", { job_id: id, error })
      );
      return updated;
    });
    this.#writes.set(id, next);
    next.finally(() => {
      if (this.#writes.get(id) === next) this.#writes.delete(id);
    }).catch(() => {});
    return next;
  }

  #notify(record: JobRecord, status?: QueueStatus): void {
    for (const listener of this.#listeners.get(record.id) ?? []) listener(record, status);
  }

  #subscribe(id: string, listener: Listener): void {
    let set = this.#listeners.get(id);
    if (!set) this.#listeners.set(id, set = new Set());
    set.add(listener);
  }

  #unsubscribe(id: string, listener: Listener): void {
    const set = this.#listeners.get(id);
    set?.delete(listener);
    if (set?.size === 0) this.#listeners.delete(id);
  }
}
