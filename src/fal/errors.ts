/**
 * Errors from fal's HTTP APIs, with the fal detail turned into one readable line.
 *
 * @module
 */

import { FalMcpError, JsonRpcCode } from "../errors.ts";

/** A fal API answered with a non-2xx status (or could not be reached). */
export class FalApiError extends FalMcpError {
  /** The HTTP status fal answered with (0 when fal could not be reached). */
  readonly falStatus: number;
  /** fal's `error_type` / `X-Fal-Error-Type`, when given. */
  readonly errorType: string | undefined;
  /** The parsed response body, when it was JSON. */
  readonly body: unknown;
  /**
   * fal's request id of the answer (`X-Fal-Request-Id`), when it had one: then the answer came
   * from the model app (fal's verdict on the request), not from fal's gateway in front of it.
   */
  readonly falRequestId: string | undefined;

  /** Creates the error; `message` already says what failed. */
  constructor(
    message: string,
    init: {
      falStatus: number;
      errorType?: string | undefined;
      body?: unknown;
      cause?: unknown;
      falRequestId?: string | undefined;
    },
  ) {
    super(message, {
      status: init.falStatus >= 400 && init.falStatus < 500 ? 400 : 502,
      code: init.falStatus === 422 || init.falStatus === 400
        ? JsonRpcCode.InvalidParams
        : JsonRpcCode.InternalError,
      cause: init.cause,
    });
    this.name = "FalApiError";
    this.falStatus = init.falStatus;
    this.errorType = init.errorType;
    this.body = init.body;
    this.falRequestId = init.falRequestId;
  }
}

/**
 * Whether a failed fal call may succeed when tried again later: fal could not be reached, or
 * its gateway answered 429 or a 5xx without a request id (the request never reached the app).
 * An answer that carries fal's request id, or any other 4xx, is fal's own verdict.
 */
export function isTransientFalError(error: unknown): boolean {
  if (!(error instanceof FalApiError)) return false;
  if (error.falStatus === 0) return true;
  if (error.falRequestId !== undefined) return false;
  return error.falStatus === 429 || error.falStatus >= 500;
}

/** The key needed for a fal call is not configured. */
export class MissingFalKeyError extends FalMcpError {
  /** Creates the error naming the missing key and where to get one (or how to send it). */
  constructor(hint?: string) {
    super(
      hint ??
        "FAL_KEY is not set: this tool calls fal.ai and needs an API key. Set the FAL_KEY " +
          "environment variable (create a key at https://fal.ai/dashboard/keys) and restart the server.",
      { status: 401, code: JsonRpcCode.InvalidRequest },
    );
    this.name = "MissingFalKeyError";
  }
}

/** Where the rejected key came from, so the message says which key to check. */
export const SERVER_KEY_HINT =
  "check FAL_KEY (copy a valid key from https://fal.ai/dashboard/keys) and restart the server";

/** fal answered 401/403 to a call that carried a key: the key itself was refused. */
export class FalKeyRejectedError extends FalApiError {
  /** Creates the error from fal's status and detail; `hint` says which key to check. */
  constructor(
    init: { falStatus: number; detail: string; hint: string; errorType?: string; body?: unknown },
  ) {
    super(
      `fal rejected the API key (fal answered ${init.falStatus}: ${init.detail}): ${init.hint}`,
      init,
    );
    this.name = "FalKeyRejectedError";
  }
}

function describeValidationItem(item: unknown): string | undefined {
  if (!item || typeof item !== "object") return undefined;
  const { loc, msg } = item as { loc?: unknown; msg?: unknown };
  const path = Array.isArray(loc) ? loc.filter((p) => p !== "body").join(".") : "";
  if (typeof msg !== "string") return undefined;
  return path ? `${path}: ${msg}` : msg;
}

/** Turns a fal error body (any of fal's shapes) into one short line, or undefined. */
export function describeFalErrorBody(body: unknown): string | undefined {
  if (typeof body === "string") return body.trim().slice(0, 500) || undefined;
  if (!body || typeof body !== "object") return undefined;
  const record = body as Record<string, unknown>;
  const detail = record.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    const parts = detail.map(describeValidationItem).filter((s): s is string => !!s);
    if (parts.length) return parts.join("; ");
  }
  const error = record.error;
  if (error && typeof error === "object") {
    const message = (error as Record<string, unknown>).message;
    if (typeof message === "string") return message;
  }
  if (typeof error === "string") return error;
  if (typeof record.message === "string") return record.message;
  if (typeof record.status === "string") return record.status;
  return undefined;
}
