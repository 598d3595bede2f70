/**
 * Waiting requests and shutdown: a request that waits on a job (`tasks/result`) holds shutdown
 * like a tool call under way, and is answered, not dropped, when the server stops: its wait ends
 * on the shutdown signal and it gets an error that says the job goes on and how to get it.
 *
 * @module
 */

import { ProtocolError, ProtocolErrorCode } from "@modelcontextprotocol/server";
import type { ServerDeps } from "../context.ts";

/** The signal a wait should end on: the client leaving, or the server stopping. */
export function untilStopping(deps: ServerDeps, signal: AbortSignal): AbortSignal {
  return deps.stopping ? AbortSignal.any([signal, deps.stopping]) : signal;
}

/** Runs `fn` counted among the calls under way, which graceful shutdown waits for. */
export function holdingShutdown<T>(deps: ServerDeps, fn: () => Promise<T>): Promise<T> {
  return deps.underWay ? deps.underWay.hold(fn) : fn();
}

/** The answer to a wait cut short by shutdown: the job goes on; ask again after reconnecting. */
export function restartingError(jobId: string): ProtocolError {
  return new ProtocolError(
    ProtocolErrorCode.InternalError,
    `Server restarting: job ${jobId} goes on at fal and its result is kept; reconnect and ` +
      "call tasks/result (or get_job) again",
    { job_id: jobId, retry: true },
  );
}
