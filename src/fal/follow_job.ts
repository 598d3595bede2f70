/**
 * Following a queued fal job to its end: the status stream for latency, falling back to polling
 * when the stream drops or fails. The job manager's followers use it. With a
 * {@linkcode StreamBudget} only so many jobs hold a stream at once; the others are polled by a
 * shared {@linkcode StatusPoller}, so following thousands of jobs does not hold thousands of
 * connections to fal.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import type { FalClient } from "./client.ts";
import type { StatusPoller } from "./status_poller.ts";
import type { QueueStatus } from "./types.ts";
import { sleep } from "../sleep.ts";

/** How many jobs may follow fal's status stream at once; the rest are polled. */
export class StreamBudget {
  readonly #max: number;
  #used = 0;

  /** A budget of `max` streams (0: every job is polled). */
  constructor(max: number) {
    this.#max = max;
  }

  /** Streams held now. */
  get used(): number {
    return this.#used;
  }

  /** Takes a stream when one is free; answers whether it did. */
  take(): boolean {
    if (this.#used >= this.#max) return false;
    this.#used++;
    return true;
  }

  /** Gives a taken stream back. */
  release(): void {
    this.#used = Math.max(0, this.#used - 1);
  }
}

/** Callbacks and limits for {@linkcode waitForCompletion}. */
export interface FollowOptions {
  /** Aborting stops following (the job goes on at fal). */
  signal?: AbortSignal | undefined;
  /** Called with every status update. */
  onStatus?: (status: QueueStatus) => void;
  /** Polling interval when the stream is unavailable and no poller is given (default 1000 ms). */
  pollIntervalMs?: number;
  /** Logger for stream fallbacks. */
  logger?: Logger;
  /** Streams shared by all followers; without it every job tries the stream first. */
  streams?: StreamBudget | undefined;
  /** Polls the jobs that hold no stream (and those whose stream failed). */
  poller?: StatusPoller | undefined;
}

/** Follows a job until fal reports COMPLETED; answers that status. */
export async function waitForCompletion(
  fal: FalClient,
  endpointId: string,
  requestId: string,
  options: FollowOptions = {},
): Promise<QueueStatus> {
  const { signal } = options;
  const log = options.logger ?? silentLogger;
  const streamed = options.streams ? options.streams.take() : true;
  if (streamed) {
    try {
      for await (
        const status of fal.streamStatus(endpointId, requestId, signal ? { signal } : {})
      ) {
        options.onStatus?.(status);
        if (status.status === "COMPLETED") return status;
      }
      log.debug("fal status stream ended early; polling", { request_id: requestId });
    } catch (error) {
      if (signal?.aborted) throw error;
      // Any failure of the stream (a 4xx such as 405 included, or silence past the idle timeout)
      // falls back to polling, as fal's own clients poll; a real problem with the request shows
      // up there.
      log.warn("fal status stream failed; polling", { request_id: requestId, error });
    } finally {
      options.streams?.release();
    }
  }
  if (options.poller) {
    return await options.poller.watch(fal, endpointId, requestId, {
      signal,
      onStatus: options.onStatus,
    });
  }
  const interval = options.pollIntervalMs ?? 1000;
  while (true) {
    const status = await fal.status(endpointId, requestId, signal ? { signal } : {});
    options.onStatus?.(status);
    if (status.status === "COMPLETED") return status;
    await sleep(interval, signal);
  }
}
