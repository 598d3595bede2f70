/**
 * The job machinery every generating tool shares. A submit is written ahead as `PENDING` before
 * it is sent (a store that cannot write refuses the submit before anything is paid) and gets
 * fal's request id once fal answers; a follower per job tracks fal's status stream (falling back
 * to polling), keeps queue position and recent logs, and fetches the result as soon as the job
 * completes (fal drops large results after minutes), retrying transient failures for as long as
 * fal keeps results. Callers wait on a job with a bound, or come back later; after a restart,
 * pending records are settled against fal's request listing and unfinished jobs are followed
 * again.
 *
 * @module
 */

import { JobListChanges } from "./list_changes.ts";
import type { FalClient } from "../fal/client.ts";
import { describeFalErrorBody, FalApiError, isTransientFalError } from "../fal/errors.ts";
import { StreamBudget, waitForCompletion } from "../fal/follow_job.ts";
import { StatusPoller } from "../fal/status_poller.ts";
import type { QueueStatus } from "../fal/types.ts";
import { errorMessage, FalMcpError, invalidParams, JsonRpcCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { sleep } from "../sleep.ts";
import type { JobCoordinator, JobUpdate } from "./coordinator.ts";
import { matchPending, unknownOutcome } from "./settle.ts";
import { JobEvents } from "./events.ts";
import {
  isFinal,
  type JobPage,
  type JobQuery,
  type JobRecord,
  type JobStore,
  PENDING_ID_PREFIX,
  SERVER_KEY,
} from "./types.ts";

/** How long fal keeps a finished job's result (1 hour; 6 minutes when it is 10 KB or more). */
export const FAL_RESULT_RETENTION_MS = 60 * 60 * 1000;
/** How long a pending record is looked for in fal's listing before it is marked `UNKNOWN`. */
export const DEFAULT_SETTLE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Jobs that follow fal's status stream at once by default; more are polled. */
export const DEFAULT_STATUS_STREAMS = 64;

/** Whether the job store can write, as last seen. */
export interface StoreHealth {
  /** Whether the last write (or probe) succeeded. */
  writable: boolean;
  /** Why it cannot write, when it cannot. */
  reason?: string | undefined;
}

/** Options for {@linkcode JobManager}. */
export interface JobManagerOptions {
  /** Where records live. */
  store: JobStore;
  /** Logger. */
  logger: Logger;
  /** Status polling interval when fal's stream is unavailable (default 1000 ms). */
  pollIntervalMs?: number;
  /**
   * Most jobs following fal's status stream at once (default {@linkcode DEFAULT_STATUS_STREAMS});
   * the others are polled within one budget of status requests, so thousands of followed jobs
   * do not hold thousands of connections to fal.
   */
  maxStatusStreams?: number | undefined;
  /** Most status polls per second over every polled job (default 200). */
  maxPollsPerSecond?: number | undefined;
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
  /**
   * How long after fal reports a job complete its result fetch is retried on transient failures
   * (default {@linkcode FAL_RESULT_RETENTION_MS}: as long as fal keeps results).
   */
  resultRetentionMs?: number | undefined;
  /** Longest pause between result-fetch retries (default 30 000 ms). */
  resultRetryMaxMs?: number | undefined;
  /** How long a pending record is looked for at fal (default {@linkcode DEFAULT_SETTLE_WINDOW_MS}). */
  settleWindowMs?: number | undefined;
  /** Pause between looks for pending records in fal's listing (default 30 000 ms). */
  settleIntervalMs?: number | undefined;
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
  readonly #streams: StreamBudget;
  readonly #poller: StatusPoller;
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #writes = new Map<string, Promise<JobRecord | undefined>>();
  readonly #stopping = new AbortController();
  readonly #metrics: Metrics | undefined;
  readonly #maxResultBytes: number | undefined;
  readonly #serverFal: FalClient | undefined;
  readonly #coordinator: JobCoordinator | undefined;
  readonly #webhookUrl: string | undefined;
  #takeover: ReturnType<typeof setInterval> | undefined;
  readonly #resultRetentionMs: number;
  readonly #resultRetryMaxMs: number;
  readonly #settleWindowMs: number;
  readonly #settleIntervalMs: number;
  /** Accepted jobs whose record could not be written yet (the store failed); retried. */
  readonly #unsaved = new Map<string, JobRecord>();
  /** Pending records to settle, with the client to ask fal with. */
  readonly #pending = new Map<string, FalClient>();
  #settling: Promise<void> | undefined;
  /** Submits being sent now, per endpoint (their fal requests must not be claimed by others). */
  readonly #sending = new Map<string, number>();
  #storeFault: string | undefined;
  #probing: Promise<StoreHealth> | undefined;
  /** Every job creation and change, for live views (subscriptions, task notifications). */
  readonly events: JobEvents = new JobEvents();

  /** Creates a manager over a store. */
  constructor(options: JobManagerOptions) {
    this.#store = options.store;
    this.#log = options.logger;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#streams = new StreamBudget(options.maxStatusStreams ?? DEFAULT_STATUS_STREAMS);
    this.#poller = new StatusPoller({
      minIntervalMs: this.#pollIntervalMs,
      maxPollsPerSecond: options.maxPollsPerSecond,
    });
    this.#maxLogs = options.maxLogs ?? 50;
    this.#metrics = options.metrics;
    this.#maxResultBytes = options.maxResultBytes;
    this.#serverFal = options.serverFal;
    this.#resultRetentionMs = options.resultRetentionMs ?? FAL_RESULT_RETENTION_MS;
    this.#resultRetryMaxMs = options.resultRetryMaxMs ?? 30_000;
    this.#settleWindowMs = options.settleWindowMs ?? DEFAULT_SETTLE_WINDOW_MS;
    this.#settleIntervalMs = options.settleIntervalMs ?? 30_000;
    this.#coordinator = options.coordinator;
    this.#webhookUrl = options.webhookUrl;
    if (this.#coordinator) {
      // Another instance's change reaches this one's waiters and live views (subscriptions,
      // task notifications, list changes) as if it had happened here.
      this.#coordinator.onUpdate(({ record, status, created, previous }) => {
        this.#notify(record, status);
        if (created) {
          this.events.publish({ kind: "created", record });
          this.listChanges.emit(record.owner);
          return;
        }
        this.events.publish({ kind: "updated", record, previous });
        if (previous !== record.status) this.listChanges.emit(record.owner);
      });
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

  /** The store (for adopting records of earlier versions at start). */
  get store(): JobStore {
    return this.#store;
  }

  /**
   * Whether the store can write now: probes it with a tiny durable write (one probe at a time;
   * callers arriving meanwhile share its answer).
   */
  storeHealth(): Promise<StoreHealth> {
    this.#probing ??= this.#store.probe().then(
      () => {
        this.#storeFault = undefined;
        return { writable: true };
      },
      (error) => {
        this.#storeFailed(error);
        return { writable: false, reason: this.#storeFault };
      },
    ).finally(() => this.#probing = undefined);
    return this.#probing;
  }

  #storeFailed(error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    if (this.#storeFault !== reason) {
      this.#log.error("the job store cannot write", { reason });
    }
    this.#storeFault = reason;
  }

  /**
   * Submits a job: writes it ahead as `PENDING`, sends it, and records fal's request id; following
   * starts in the background. Answers the new record.
   *
   * @throws {FalMcpError} 503 before anything is sent when the store cannot write (nothing is
   * charged); fal's error when fal refuses the submit.
   */
  async submit(
    caller: JobCaller,
    endpointId: string,
    input: unknown,
    options: { tool?: string; signal?: AbortSignal } = {},
  ): Promise<JobRecord> {
    options.signal?.throwIfAborted();
    const { fal } = caller;
    const now = new Date().toISOString();
    const pending: JobRecord = {
      id: `${PENDING_ID_PREFIX}${crypto.randomUUID()}`,
      endpointId,
      owner: caller.principal.id,
      keyId: fal === this.#serverFal ? SERVER_KEY : fal.owner,
      status: "PENDING",
      logs: [],
      input,
      tool: options.tool,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.#store.put(pending);
      this.#storeFault = undefined;
    } catch (error) {
      this.#storeFailed(error);
      throw new FalMcpError(
        `Cannot submit job to ${endpointId}: the job store cannot record it ` +
          `(${this.#storeFault}), so nothing was sent to fal and nothing was charged. Free ` +
          "space in the server's state directory (or make it writable) and try again.",
        { status: 503, code: JsonRpcCode.InternalError, cause: error },
      );
    }
    let submission;
    let unanswered = 0;
    this.#sending.set(endpointId, (this.#sending.get(endpointId) ?? 0) + 1);
    try {
      // Not aborted when the caller leaves: a submit cut off mid-flight may still be accepted
      // (and billed) with its id lost. It is short; once answered, the caller's tool cancels
      // the job it no longer wants.
      submission = await fal.submit(endpointId, input, {
        onUnanswered: () => unanswered++,
        ...(this.#webhookUrl ? { webhookUrl: this.#webhookUrl } : {}),
      });
    } catch (error) {
      if (!(error instanceof FalApiError && error.falStatus === 0)) {
        // fal answered (the submit was refused), or nothing was sent (no key, a bad endpoint
        // id): there is no job to keep.
        await this.#store.remove(pending.id).catch((removeError) =>
          this.#log.warn("cannot remove a refused submit's record", {
            job_id: pending.id,
            error: removeError,
          })
        );
        throw error;
      }
      // No answer (fal could not be reached): fal may still have accepted it. The record
      // stays PENDING and is settled against fal's listing of the endpoint's requests.
      this.#log.warn("a submit's outcome is unknown; settling it with fal's listing", {
        job_id: pending.id,
        endpoint_id: endpointId,
        error,
      });
      this.#pending.set(pending.id, fal);
      if (unanswered > 0) await this.#recordPossibleDuplicates(fal, pending, unanswered);
      this.#startSettling();
      throw error;
    } finally {
      const left = (this.#sending.get(endpointId) ?? 1) - 1;
      if (left > 0) this.#sending.set(endpointId, left);
      else this.#sending.delete(endpointId);
    }
    const record: JobRecord = {
      ...pending,
      id: submission.request_id,
      status: "IN_QUEUE",
      queuePosition: submission.queue_position,
      updatedAt: new Date().toISOString(),
    };
    try {
      await this.#store.replace(pending.id, record);
      this.#follow(fal, record);
    } catch (error) {
      // fal accepted the job: the caller gets its id now, and the record is written when the
      // store can write again (the PENDING record already on disk is settled after a restart).
      this.#storeFailed(error);
      this.#log.error("fal accepted a job but its record could not be written; retrying", {
        job_id: record.id,
        endpoint_id: endpointId,
      });
      this.#unsaved.set(record.id, record);
      void this.#saveLater(fal, pending.id, record);
    }
    this.#countStatus(record.status);
    this.events.publish({ kind: "created", record });
    this.listChanges.emit(record.owner);
    this.#announce({ record, created: true });
    this.#log.info("fal job submitted", { job_id: record.id, endpoint_id: endpointId });
    if (unanswered > 0) await this.#recordPossibleDuplicates(fal, pending, unanswered);
    return record;
  }

  /**
   * A submit that was sent again after an attempt got no answer may have been accepted more than
   * once: each unanswered attempt gets a pending record of its own, settled like any other (a
   * match in fal's listing becomes a job of its own; none, and it ends `UNKNOWN`).
   */
  async #recordPossibleDuplicates(
    fal: FalClient,
    pending: JobRecord,
    count: number,
  ): Promise<void> {
    for (let i = 0; i < count; i++) {
      const extra: JobRecord = { ...pending, id: `${PENDING_ID_PREFIX}${crypto.randomUUID()}` };
      try {
        await this.#store.put(extra);
        this.#pending.set(extra.id, fal);
      } catch (error) {
        this.#storeFailed(error);
        this.#log.error("cannot record a possibly duplicated submit", {
          endpoint_id: pending.endpointId,
          created_at: pending.createdAt,
        });
      }
    }
    this.#log.warn("a submit was resent after an unanswered attempt; checking fal for duplicates", {
      endpoint_id: pending.endpointId,
      attempts: count,
    });
    this.#startSettling();
  }

  async #saveLater(fal: FalClient, pendingId: string, record: JobRecord): Promise<void> {
    for (let attempt = 1; !this.#stopping.signal.aborted; attempt++) {
      try {
        await sleep(Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)), this.#stopping.signal);
        await this.#store.replace(pendingId, record);
        this.#storeFault = undefined;
        this.#unsaved.delete(record.id);
        this.#log.info("job record written after the store recovered", { job_id: record.id });
        this.#follow(fal, record);
        return;
      } catch (error) {
        if (this.#stopping.signal.aborted) return;
        this.#storeFailed(error);
      }
    }
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
      if (fal && record.status === "PENDING") this.#settleLater(record.id, fal);
      else if (fal) this.#follow(fal, record);
    }
    return record;
  }

  async #owned(caller: JobCaller, id: string): Promise<JobRecord> {
    const record = await this.#store.get(id) ?? this.#unsaved.get(id);
    if (!record || record.owner !== caller.principal.id) {
      throw invalidParams(
        `Unknown job id "${id}": you have no job with this id. Use list_jobs to see your jobs.`,
        { status: 404 },
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
    // A pending record gets another id once settled: there is nothing to wait on under this one.
    if (isFinal(record.status) || record.status === "PENDING") return record;
    // The caller may have left already (during the submit): then there is nobody to wait for.
    if (options.signal?.aborted) return record;
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
    if (record.status === "PENDING") {
      throw new FalMcpError(
        `Cannot cancel job ${id} yet: its submit was interrupted before fal answered, and it is ` +
          "still being matched with fal's records. Look again with list_jobs in a minute.",
        { status: 409, code: JsonRpcCode.InvalidParams },
      );
    }
    const fal = this.#followerFor(caller, record);
    if (!fal) {
      throw invalidParams(
        `Cannot cancel job "${id}": it was submitted with another fal key, and only that key ` +
          "can cancel it at fal. Send that key (X-Fal-Key) and try again.",
        { status: 409 },
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
    const { resumed, waiting, pending } = await this.#followUnfinished(true);
    if (resumed || waiting) {
      this.#log.info("following unfinished jobs again", {
        jobs: resumed,
        waiting_for_caller_key: waiting,
      });
    }
    if (pending) {
      this.#log.warn("settling interrupted submits with fal's request listing", { jobs: pending });
      this.#startSettling();
    }
    return resumed;
  }

  /**
   * Follows the unfinished jobs of the server's key nobody here follows yet. `settlePending`: also
   * queue pending records for settling (at start only: in a cluster, a pending record seen later
   * may be another instance's submit under way).
   */
  async #followUnfinished(
    settlePending = false,
  ): Promise<{ resumed: number; waiting: number; pending: number }> {
    const fal = this.#serverFal;
    if (!fal?.hasKey || this.#stopping.signal.aborted) {
      return { resumed: 0, waiting: 0, pending: 0 };
    }
    let resumed = 0;
    let waiting = 0;
    let pending = 0;
    for (const record of await this.#store.unfinished()) {
      const server = record.keyId === undefined || record.keyId === SERVER_KEY ||
        record.keyId === fal.owner;
      if (!server) {
        waiting++;
        continue;
      }
      if (record.status === "PENDING") {
        if (settlePending && !this.#pending.has(record.id)) {
          this.#pending.set(record.id, fal);
          pending++;
        }
        continue;
      }
      if (this.#followers.has(record.id)) continue;
      this.#follow(fal, record);
      resumed++;
    }
    return { resumed, waiting, pending };
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

  /** Settles a pending record with `fal` (its submitter's key is back). */
  #settleLater(id: string, fal: FalClient): void {
    if (this.#pending.has(id)) return;
    this.#pending.set(id, fal);
    this.#startSettling();
  }

  /** Resolves once every pending record known now was settled (matched or marked unknown). */
  async settled(): Promise<void> {
    while (this.#settling) await this.#settling;
  }

  #startSettling(): void {
    if (this.#settling || this.#stopping.signal.aborted) return;
    this.#settling = this.#settleLoop()
      .catch((error) => this.#log.error("settling pending jobs failed", { error }))
      .finally(() => this.#settling = undefined);
  }

  async #settleLoop(): Promise<void> {
    const signal = this.#stopping.signal;
    while (this.#pending.size > 0 && !signal.aborted) {
      const byClient = new Map<FalClient, JobRecord[]>();
      for (const [id, fal] of this.#pending) {
        const record = await this.#store.get(id);
        if (!record || record.status !== "PENDING") {
          this.#pending.delete(id);
          continue;
        }
        // While other submits to the endpoint are under way, one of them may own the fal
        // request that matches: wait for them to be recorded first.
        if (this.#sending.has(record.endpointId)) continue;
        byClient.set(fal, [...(byClient.get(fal) ?? []), record]);
      }
      for (const [fal, records] of byClient) {
        try {
          await this.#settleWith(fal, records, signal);
        } catch (error) {
          if (signal.aborted) return;
          this.#log.warn("cannot read fal's request listing; trying again later", { error });
          const reason = error instanceof Error ? error.message : String(error);
          for (const record of records) await this.#giveUpIfOld(record, reason);
        }
      }
      if (this.#pending.size === 0) return;
      try {
        await sleep(this.#settleIntervalMs, signal);
      } catch {
        return;
      }
    }
  }

  async #settleWith(fal: FalClient, records: JobRecord[], signal: AbortSignal): Promise<void> {
    const matches = await matchPending(
      fal,
      records,
      async (requestId) => (await this.#store.get(requestId)) !== undefined,
      signal,
    );
    for (const record of records) {
      const requestId = matches.get(record.id);
      if (requestId !== undefined) {
        const settled: JobRecord = {
          ...record,
          id: requestId,
          status: "IN_QUEUE",
          updatedAt: new Date().toISOString(),
        };
        await this.#store.replace(record.id, settled);
        this.#pending.delete(record.id);
        this.#countStatus(settled.status);
        this.listChanges.emit(settled.owner);
        this.events.publish({ kind: "created", record: settled });
        this.#announce({ record: settled, created: true });
        this.#log.info("interrupted submit found at fal", {
          job_id: requestId,
          pending_id: record.id,
          endpoint_id: record.endpointId,
        });
        this.#follow(fal, settled);
      } else {
        await this.#giveUpIfOld(record);
      }
    }
  }

  /** Marks a pending record `UNKNOWN` once it was looked for longer than the settle window. */
  async #giveUpIfOld(record: JobRecord, listingError?: string): Promise<void> {
    if (Date.now() - Date.parse(record.createdAt) < this.#settleWindowMs) return;
    await this.#update(record.id, {
      status: "UNKNOWN",
      error: unknownOutcome(record, this.#settleWindowMs, listingError),
    });
    this.#pending.delete(record.id);
    this.#log.warn("interrupted submit not found at fal; marked unknown", {
      job_id: record.id,
      endpoint_id: record.endpointId,
      created_at: record.createdAt,
    });
  }

  /** Stops following (jobs go on at fal and are picked up again on the next start). */
  async close(): Promise<void> {
    clearInterval(this.#takeover);
    this.#stopping.abort(new DOMException("server stopping", "AbortError"));
    await Promise.allSettled([...this.#followers.values()]);
    await this.#store.close();
  }

  #follow(fal: FalClient, record: JobRecord): void {
    if (record.status === "PENDING") return;
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
          streams: this.#streams,
          poller: this.#poller,
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
    const completedAt = Date.now();
    for (let attempt = 1;; attempt++) {
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
        return;
      } catch (error) {
        if (signal.aborted) return;
        // fal unreachable, or its gateway failing: the result is still kept at fal, so try again
        // (slower each time) for as long as fal keeps results. Only fal's answer fails the job.
        if (
          isTransientFalError(error) && Date.now() - completedAt < this.#resultRetentionMs
        ) {
          const delay = Math.min(this.#resultRetryMaxMs, this.#pollIntervalMs * 2 ** attempt);
          this.#log.warn("fetching a job's result failed; retrying", {
            job_id: id,
            attempt,
            delay_ms: delay,
            error,
          });
          try {
            await sleep(delay, signal);
          } catch {
            return;
          }
          continue;
        }
        // A model's own failure (it comes with the result) is told in the model's words.
        let message = error instanceof FalApiError && error.falStatus !== 404
          ? describeFalErrorBody(error.body) ?? errorMessage(error)
          : errorMessage(error);
        if (error instanceof FalApiError && error.falStatus === 404) {
          message += " (fal keeps a result for 1 hour after the job ends, 6 minutes when it " +
            "is 10 KB or more)";
        }
        await this.#update(id, { status: "FAILED", error: message, metrics: final.metrics });
        return;
      }
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
      this.#announce({ record: updated, status, previous: current.status });
      return updated;
    });
    this.#writes.set(id, next);
    next.finally(() => {
      if (this.#writes.get(id) === next) this.#writes.delete(id);
    }).catch(() => {});
    return next;
  }

  /** Tells the other instances of a cluster about a change (nothing without a coordinator). */
  #announce(update: JobUpdate): void {
    this.#coordinator?.publish(update).catch((error) =>
      this.#log.warn("announcing a job change failed", { job_id: update.record.id, error })
    );
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
