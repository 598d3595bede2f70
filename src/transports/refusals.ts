/**
 * The error answers both MCP HTTP legs give (Streamable HTTP at `/mcp`, legacy SSE at `/sse` and
 * `/messages/`), in one place so the two agree on status, JSON-RPC code and wording:
 *
 * | answer                                | status | JSON-RPC code |
 * | ------------------------------------- | ------ | ------------- |
 * | method not allowed                    | 405    | -32600        |
 * | not acceptable                        | 406    | -32600        |
 * | session id missing                    | 400    | -32600        |
 * | session not found                     | 404    | -32001        |
 * | sessions full (all, or this client's) | 503    | -32603        |
 * | shutting down                         | 503    | -32603        |
 *
 * Body errors (415, 413, 408, parse errors) are in `post_body.ts`.
 *
 * @module
 */

import { JsonRpcCode } from "../errors.ts";
import { jsonRpcErrorResponse, type JsonRpcId } from "../protocol/jsonrpc_error.ts";

/** The JSON-RPC code of an unknown or ended session (as the SDK answers it). */
export const SESSION_NOT_FOUND = -32001;

/** 405: `path` is served only with the `allow`ed methods (also sent as `Allow`). */
export function methodNotAllowed(path: string, allow: string): Response {
  return jsonRpcErrorResponse(
    405,
    JsonRpcCode.InvalidRequest,
    `Method Not Allowed: ${path} accepts ${allow}`,
    { allow },
  );
}

/** 406: the endpoint answers only `type`, which the request's `Accept` excludes. */
export function notAcceptable(type: string): Response {
  return jsonRpcErrorResponse(
    406,
    JsonRpcCode.InvalidRequest,
    `Not Acceptable: this endpoint answers ${type}, which the Accept header excludes`,
  );
}

/** 400: the request names no session; `how` says where the id goes. */
export function sessionIdMissing(how: string): Response {
  return jsonRpcErrorResponse(400, JsonRpcCode.InvalidRequest, `Bad Request: ${how}`);
}

/**
 * 404 (-32001): the session is unknown, ended, expired or another caller's (ids are not
 * capabilities, so all read alike); `recover` says how to get a new one.
 */
export function sessionNotFound(recover: string, id: JsonRpcId = null): Response {
  return jsonRpcErrorResponse(
    404,
    SESSION_NOT_FOUND,
    `Session not found: it never existed, has ended or expired; ${recover}`,
    undefined,
    id,
  );
}

/** 503: every one of the `max` sessions (`noun`: "sessions", "SSE sessions") is in use. */
export function sessionsFull(max: number, noun: string, id: JsonRpcId = null): Response {
  return jsonRpcErrorResponse(
    503,
    JsonRpcCode.InternalError,
    `Server busy: all ${max} ${noun} are in use; try again later`,
    { "retry-after": "5" },
    id,
  );
}

/** 503: this caller already holds its share of `max` sessions; `free` says how to free one. */
export function clientSessionsFull(
  max: number,
  noun: string,
  free: string,
  id: JsonRpcId = null,
): Response {
  return jsonRpcErrorResponse(
    503,
    JsonRpcCode.InternalError,
    `Server busy: this client already holds ${max} ${noun} (the most one client may hold); ` +
      `${free}, then retry`,
    { "retry-after": "5" },
    id,
  );
}

/** 503: the server is shutting down or draining; a restarted one answers shortly. */
export function shuttingDown(): Response {
  return jsonRpcErrorResponse(
    503,
    JsonRpcCode.InternalError,
    "Server restarting: retry shortly",
    { "retry-after": "2" },
  );
}
