/**
 * Reading the JSON body of a POST to an MCP HTTP leg, once, bounded in bytes and time, with the
 * answers both legs give when it fails: 415 for a non-JSON `Content-Type`, 413 over the size
 * limit, 408 when it does not arrive in time, 400 when the connection breaks mid-body, and
 * 400 / -32700 for invalid JSON. The JSON-RPC method and tool are noted for the access log.
 *
 * @module
 */

import { isJsonContentType } from "@modelcontextprotocol/server";
import { errorMessage, JsonRpcCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import { jsonRpcErrorResponse } from "../protocol/jsonrpc_error.ts";
import { readBody, readTimeoutResponse } from "../protocol/read_body.ts";
import { noteRpc } from "../protocol/request_info.ts";

/** Limits for {@linkcode readJsonPost}. */
export interface PostBodyLimits {
  /** Largest body in bytes. */
  maxBodyBytes: number;
  /** How long the body may take to arrive (ms). */
  readTimeoutMs: number;
}

/** The parsed body, or the error answer to send instead. */
export type PostBody = { ok: true; body: unknown } | { ok: false; response: Response };

/** Reads and parses `request`'s JSON body within `limits`. */
export async function readJsonPost(
  request: Request,
  limits: PostBodyLimits,
  logger: Logger,
): Promise<PostBody> {
  const contentType = request.headers.get("content-type");
  if (!isJsonContentType(contentType)) {
    return refuse(jsonRpcErrorResponse(
      415,
      JsonRpcCode.InvalidRequest,
      `Unsupported Media Type: Content-Type must be application/json, got ${
        contentType === null ? "none" : JSON.stringify(contentType)
      }`,
    ));
  }
  let read: Awaited<ReturnType<typeof readBody>>;
  try {
    read = await readBody(request, limits.maxBodyBytes, limits.readTimeoutMs);
  } catch (error) {
    logger.debug("reading a request body failed", { error: errorMessage(error) });
    return refuse(jsonRpcErrorResponse(
      400,
      JsonRpcCode.InvalidRequest,
      "Bad Request: the request body could not be read to the end",
    ));
  }
  if (read.kind === "timedOut") return refuse(readTimeoutResponse(limits.readTimeoutMs));
  if (read.kind === "tooLarge") {
    await request.body?.cancel().catch(() => {});
    return refuse(jsonRpcErrorResponse(
      413,
      JsonRpcCode.InvalidRequest,
      `Payload Too Large: the request body exceeds the ${limits.maxBodyBytes}-byte limit`,
    ));
  }
  let body: unknown;
  try {
    body = JSON.parse(read.text);
  } catch (error) {
    return refuse(jsonRpcErrorResponse(
      400,
      JsonRpcCode.ParseError,
      `Parse error: the body is not valid JSON (${errorMessage(error)})`,
    ));
  }
  noteRpc(request, body);
  return { ok: true, body };
}

function refuse(response: Response): PostBody {
  return { ok: false, response };
}
