/**
 * Following a queued fal job to its end: the status stream for latency, falling back to polling
 * when the stream drops or fails. The job manager's followers use it.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import type { FalClient } from "./client.ts";
import type { QueueStatus } from "./types.ts";
import { sleep } from "../sleep.ts";

/** Callbacks and limits for {@linkcode waitForCompletion}. */
export interface FollowOptions {
  /** Aborting stops following (the job goes on at fal). */
  signal?: AbortSignal | undefined;
  /** Called with every status update. */
  onStatus?: (status: QueueStatus) => void;
  /** Polling interval when the stream is unavailable (default 1000 ms). */
  pollIntervalMs?: number;
  /** Logger for stream fallbacks. */
  logger?: Logger;
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
  try {
    for await (const status of fal.streamStatus(endpointId, requestId, signal ? { signal } : {})) {
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
  }
  const interval = options.pollIntervalMs ?? 1000;
  while (true) {
    const status = await fal.status(endpointId, requestId, signal ? { signal } : {});
    options.onStatus?.(status);
    if (status.status === "COMPLETED") return status;
    await sleep(interval, signal);
  }
}
