/**
 * Following many fal jobs at once by polling their status (`GET …/status?logs=1`, as fal's own
 * clients do) from one scheduler, instead of holding one status stream (a connection, a file
 * descriptor and its buffers) open per job. One timer serves every watched job; at most
 * {@linkcode StatusPollerOptions.maxInFlight} status requests run at a time, so the connections to
 * fal stay within the shared pool however many jobs are followed; and the whole poller asks fal at
 * most {@linkcode StatusPollerOptions.maxPollsPerSecond} times a second, so each job is polled
 * every `minIntervalMs`, or less often once more jobs are watched than that rate allows.
 *
 * @example
 * ```ts ignore
 * import { StatusPoller } from "./status_poller.ts";
 * declare const fal: import("./client.ts").FalClient;
 * const poller = new StatusPoller();
 * const final = await poller.watch(fal, "fal-ai/flux/dev", "req-1", {
 *   onStatus: (status) => console.error(status.status),
 * });
 * ```
 *
 * @module
 */

import type { FalClient } from "./client.ts";
import type { QueueStatus } from "./types.ts";

/** Limits of a {@linkcode StatusPoller}. */
export interface StatusPollerOptions {
  /** Shortest pause between two polls of one job (default 1000 ms). */
  minIntervalMs?: number;
  /** Most status requests per second over all jobs (default 200). */
  maxPollsPerSecond?: number;
  /** Most status requests in flight at once (default 8). */
  maxInFlight?: number;
}

/** What {@linkcode StatusPoller.watch} is told while it polls. */
export interface WatchOptions {
  /** Aborting stops watching (the job goes on at fal); the promise rejects with the reason. */
  signal?: AbortSignal | undefined;
  /** Called with every status read. */
  onStatus?: ((status: QueueStatus) => void) | undefined;
  /** Poll the first time at once (default) or only after one interval. */
  immediate?: boolean | undefined;
}

interface Watch {
  fal: FalClient;
  endpointId: string;
  requestId: string;
  due: number;
  options: WatchOptions;
  resolve: (status: QueueStatus) => void;
  reject: (error: unknown) => void;
  done: boolean;
}

/** Polls the status of many fal jobs within one request budget. */
export class StatusPoller {
  readonly #minIntervalMs: number;
  readonly #maxPollsPerSecond: number;
  readonly #maxInFlight: number;
  readonly #watches = new Set<Watch>();
  /**
   * Watches waiting for their next poll, earliest due first: every job waits the same interval,
   * so a job polled goes to the back (a queue, not a heap).
   */
  #queue: Watch[] = [];
  #head = 0;
  #inFlight = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerDue = Infinity;

  /** Creates a poller with the given limits. */
  constructor(options: StatusPollerOptions = {}) {
    this.#minIntervalMs = options.minIntervalMs ?? 1000;
    this.#maxPollsPerSecond = options.maxPollsPerSecond ?? 200;
    this.#maxInFlight = options.maxInFlight ?? 8;
  }

  /** Jobs being watched now. */
  get size(): number {
    return this.#watches.size;
  }

  /** Pause between two polls of one job with the jobs watched now. */
  get intervalMs(): number {
    return Math.max(this.#minIntervalMs, (this.#watches.size / this.#maxPollsPerSecond) * 1000);
  }

  /**
   * Polls a job until fal reports it COMPLETED; answers that status. Rejects with fal's error
   * when a status request fails (after the client's own retries), or with the signal's reason.
   */
  watch(
    fal: FalClient,
    endpointId: string,
    requestId: string,
    options: WatchOptions = {},
  ): Promise<QueueStatus> {
    const { promise, resolve, reject } = Promise.withResolvers<QueueStatus>();
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const watch: Watch = {
      fal,
      endpointId,
      requestId,
      due: performance.now() + (options.immediate === false ? this.intervalMs : 0),
      options,
      resolve,
      reject,
      done: false,
    };
    const onAbort = () => this.#finish(watch, () => reject(signal?.reason));
    signal?.addEventListener("abort", onAbort, { once: true });
    watch.resolve = (status) => {
      signal?.removeEventListener("abort", onAbort);
      resolve(status);
    };
    watch.reject = (error) => {
      signal?.removeEventListener("abort", onAbort);
      reject(error);
    };
    this.#watches.add(watch);
    this.#enqueue(watch);
    return promise;
  }

  #finish(watch: Watch, settle: () => void): void {
    if (watch.done) return;
    watch.done = true;
    this.#watches.delete(watch);
    settle();
    if (!this.#watches.size) {
      this.#queue = [];
      this.#head = 0;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerDue = Infinity;
    }
  }

  #enqueue(watch: Watch): void {
    this.#queue.push(watch);
    this.#schedule();
  }

  /** The next watch waiting for a poll (skipping finished ones), without taking it. */
  #peek(): Watch | undefined {
    while (this.#head < this.#queue.length) {
      const watch = this.#queue[this.#head]!;
      if (!watch.done) return watch;
      this.#head++;
    }
    return undefined;
  }

  #take(): Watch {
    const watch = this.#queue[this.#head++]!;
    // Drop the consumed front now and then, so the array does not grow without end.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    return watch;
  }

  /** Arms the one timer for the earliest due job. */
  #schedule(): void {
    const next = this.#peek();
    if (!next || this.#inFlight >= this.#maxInFlight) return;
    if (this.#timer !== undefined && this.#timerDue <= next.due) return;
    clearTimeout(this.#timer);
    this.#timerDue = next.due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerDue = Infinity;
      this.#tick();
    }, Math.max(0, next.due - performance.now()));
  }

  /** Starts the polls that are due, as many as the in-flight bound allows, earliest first. */
  #tick(): void {
    const now = performance.now();
    for (let next = this.#peek(); next; next = this.#peek()) {
      if (next.due > now || this.#inFlight >= this.#maxInFlight) break;
      void this.#poll(this.#take());
    }
    this.#schedule();
  }

  async #poll(watch: Watch): Promise<void> {
    this.#inFlight++;
    const { signal, onStatus } = watch.options;
    try {
      const status = await watch.fal.status(
        watch.endpointId,
        watch.requestId,
        signal ? { signal } : {},
      );
      if (watch.done) return;
      onStatus?.(status);
      if (status.status === "COMPLETED") this.#finish(watch, () => watch.resolve(status));
    } catch (error) {
      this.#finish(watch, () => watch.reject(error));
    } finally {
      this.#inFlight--;
      if (!watch.done) {
        watch.due = performance.now() + this.intervalMs;
        this.#queue.push(watch);
      }
      // A poll ending frees a slot: a due poll waiting for one starts now.
      this.#tick();
    }
  }
}
