/**
 * How jobs end badly: model errors (`{"detail":[…]}` with `X-Fal-Retryable`), infrastructure
 * errors (`{"detail","error_type"}` with `X-Fal-Error-Type`), validation errors and cancellation,
 * plus the `fake_fail` test hook that triggers them on purpose.
 *
 * @module
 */

import type { ValidationIssue } from "./validate.ts";

/** How a job ended: the model's answer plus what the COMPLETED status shows. */
export interface Outcome {
  /** HTTP status of the answer. */
  status: number;
  /** JSON body of the answer. */
  body: unknown;
  /** Extra response headers. */
  headers: Record<string, string>;
  /** Set when the job failed: the status object's `error` and `error_type`. */
  error?: { message: string; type?: string };
  /** Billing units used (0 for failures). */
  units: number;
}

/** A model (app-level) error in fal's documented shape. */
export function modelError(
  status: number,
  type: string,
  msg: string,
  loc: (string | number)[] = ["body"],
  retryable = false,
): Outcome {
  return {
    status,
    body: { detail: [{ loc, msg, type, url: `https://docs.fal.ai/errors#${type}` }] },
    headers: { "x-fal-retryable": String(retryable) },
    error: { message: msg },
    units: 0,
  };
}

/** An infrastructure error (`{"detail","error_type"}` + `X-Fal-Error-Type`). */
export function requestError(status: number, type: string, message: string): Outcome {
  return {
    status,
    body: { detail: message, error_type: type },
    headers: { "x-fal-error-type": type },
    error: { message, type },
    units: 0,
  };
}

/** The 422 a model answers for invalid input. */
export function validationFailure(issues: ValidationIssue[]): Outcome {
  const first = issues[0];
  const where = first ? first.loc.join(".") : "body";
  return {
    status: 422,
    body: { detail: issues },
    headers: {},
    error: { message: `Input validation failed: ${where}: ${first?.msg ?? "invalid input"}` },
    units: 0,
  };
}

/** The answer of a cancelled job. */
export function cancelledOutcome(): Outcome {
  return requestError(499, "client_cancelled", "Request was cancelled by the client");
}

/** The answer of a job that ran past its `x-fal-request-timeout`. */
export function timeoutOutcome(): Outcome {
  return requestError(504, "request_timeout", "Request timed out");
}

/**
 * Values of the `fake_fail` input field (a test hook) and what each makes the job answer.
 * Model errors fail at the end of the run; the job still reaches COMPLETED, with `error` set.
 */
export const FAKE_FAILURES: Readonly<Record<string, () => Outcome>> = {
  /** The model crashed: 500 with a `internal_server_error` model error. */
  model_error: () =>
    modelError(500, "internal_server_error", "Internal server error while running the model."),
  /** The output was flagged: 422 `content_policy_violation` on the prompt. */
  content_policy_violation: () =>
    modelError(
      422,
      "content_policy_violation",
      "The content could not be processed because it contained material flagged by a content " +
        "checker.",
      ["body", "prompt"],
    ),
  /** 504 `request_timeout`. */
  request_timeout: timeoutOutcome,
  /** 504 `startup_timeout`. */
  startup_timeout: () => requestError(504, "startup_timeout", "Runner startup timed out"),
  /** 503 `runner_scheduling_failure`. */
  runner_scheduling_failure: () =>
    requestError(503, "runner_scheduling_failure", "No runner could be allocated to the request"),
  /** 503 `runner_disconnected`. */
  runner_disconnected: () =>
    requestError(503, "runner_disconnected", "Runner disconnected during processing"),
  /** 500 `internal_error`. */
  internal_error: () => requestError(500, "internal_error", "Internal error"),
};
