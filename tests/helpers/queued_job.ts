/**
 * A job run straight through the fal client, for tests of the client's retries and of the status
 * stream fallback: submit, {@linkcode waitForCompletion} (what the job manager's followers use),
 * fetch the result; a job that failed at fal rejects with fal's error. An aborted run cancels the
 * fal request.
 *
 * @module
 */

import type { FalClient } from "../../src/fal/client.ts";
import { describeFalErrorBody, FalApiError, isTransientFalError } from "../../src/fal/errors.ts";
import { type FollowOptions, waitForCompletion } from "../../src/fal/follow_job.ts";
import type { QueueStatus } from "../../src/fal/types.ts";
import { silentLogger } from "../../src/log.ts";

/** {@linkcode FollowOptions} plus a callback with the request id once fal accepted the job. */
export interface RunOptions extends FollowOptions {
  /** Called once the job is accepted, with its request id. */
  onSubmitted?: (requestId: string) => void;
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
  options: RunOptions = {},
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
