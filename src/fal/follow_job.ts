/**
 * Runs a model through the queue: submit, follow the status stream (falling back to polling when
 * the stream drops), fetch the result. If the caller aborts, the fal request is cancelled so
 * nobody pays for a result no one will read.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import type { FalClient } from "./client.ts";
import { describeFalErrorBody, FalApiError, isTransientFalError } from "./errors.ts";
import type { QueueStatus } from "./types.ts";
import { sleep } from "../sleep.ts";

/** Callbacks and limits for {@linkcode runQueuedJob}. */
export interface FollowOptions {
  /** Aborting cancels the fal request. */
  signal?: AbortSignal | undefined;
  /** Called once the job is accepted, with its request id. */
  onSubmitted?: (requestId: string) => void;
  /** Called with every status update. */
  onStatus?: (status: QueueStatus) => void;
  /** Polling interval when the stream is unavailable (default 1000 ms). */
  pollIntervalMs?: number;
  /** Logger for stream fallbacks. */
  logger?: Logger;
}

/** A finished queue job. */
export interface FinishedJob {
  /** The fal request id. */
  requestId: string;
  /** The last status fal reported. */
  status: QueueStatus;
  /** What the model returned. */
  result: unknown;
}

/** Submits `input` to `endpointId`, waits for completion and returns the result. */
export async function runQueuedJob(
  fal: FalClient,
  endpointId: string,
  input: unknown,
  options: FollowOptions = {},
): Promise<FinishedJob> {
  const { signal } = options;
  signal?.throwIfAborted();
  const submission = await fal.submit(endpointId, input, signal ? { signal } : {});
  const requestId = submission.request_id;
  options.onSubmitted?.(requestId);
  try {
    const status = await waitForCompletion(fal, endpointId, requestId, options);
    if (status.error) {
      throw new FalApiError(
        `The ${endpointId} job ${requestId} failed: ${status.error}`,
        { falStatus: 500, errorType: status.error_type ?? undefined, body: status },
      );
    }
    let result: unknown;
    try {
      result = await fal.result(endpointId, requestId, signal ? { signal } : {});
    } catch (error) {
      // A model's failure (validation included) comes with the result: it is the job's verdict.
      if (error instanceof FalApiError && !isTransientFalError(error)) {
        throw new FalApiError(
          `The ${endpointId} job ${requestId} failed: ${
            describeFalErrorBody(error.body) ?? error.message
          }`,
          {
            falStatus: error.falStatus,
            errorType: error.errorType,
            body: error.body,
            falRequestId: error.falRequestId,
            cause: error,
          },
        );
      }
      throw error;
    }
    return { requestId, status, result };
  } catch (error) {
    if (signal?.aborted) {
      // Cancel in the background: the caller is gone and should not wait on fal.
      fal.cancel(endpointId, requestId).catch((cancelError) =>
        (options.logger ?? silentLogger).warn("fal cancel failed", {
          endpoint_id: endpointId,
          request_id: requestId,
          error: cancelError,
        })
      );
    }
    throw error;
  }
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
