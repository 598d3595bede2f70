/**
 * Reads a request body once, as text, bounded in bytes and in time: a caller that sends more than
 * `maxBytes` gets 413, and one that trickles (or stops sending) gets 408 once `timeoutMs` has
 * passed, so a slow client cannot hold a request slot and its memory forever.
 *
 * @module
 */

import { JsonRpcCode } from "../errors.ts";
import { jsonRpcErrorResponse } from "./jsonrpc_error.ts";

/** Default time a body may take to arrive (ms). */
export const DEFAULT_READ_TIMEOUT_MS = 30_000;

/** The outcome of {@linkcode readBody}. */
export type BodyRead =
  | { kind: "text"; text: string }
  | { kind: "tooLarge" }
  | { kind: "timedOut" };

/** Reads `request`'s body as UTF-8 text within `maxBytes` and `timeoutMs`. */
export async function readBody(
  request: Request,
  maxBytes: number,
  timeoutMs: number = DEFAULT_READ_TIMEOUT_MS,
): Promise<BodyRead> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d{1,15}$/.test(declared)) {
    if (Number(declared) > maxBytes) return { kind: "tooLarge" };
    // A body of declared length (HTTP framing guarantees no more arrives) is read in one piece
    // by the runtime, within the deadline.
    const text = request.text();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<BodyRead>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "timedOut" }), timeoutMs);
    });
    try {
      return await Promise.race([text.then((t): BodyRead => ({ kind: "text", text: t })), late]);
    } finally {
      clearTimeout(timer);
      text.catch(() => {}); // the connection closing after a 408 ends this read
    }
  }
  if (request.body === null) return { kind: "text", text: "" };
  const reader = request.body.getReader();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    reader.cancel(new Error("request body read timed out")).catch(() => {});
  }, timeoutMs);
  const decoder = new TextDecoder();
  let received = 0;
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut) return { kind: "timedOut" };
      if (done) break;
      received += value.byteLength;
      if (received > maxBytes) {
        await reader.cancel().catch(() => {});
        return { kind: "tooLarge" };
      }
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    if (timedOut) return { kind: "timedOut" };
    throw error;
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  return { kind: "text", text: text + decoder.decode() };
}

/** The 408 answer to a body that did not arrive in time (the connection is closed). */
export function readTimeoutResponse(timeoutMs: number): Response {
  return jsonRpcErrorResponse(
    408,
    JsonRpcCode.InvalidRequest,
    `Request Timeout: the request body did not arrive within ${Math.round(timeoutMs / 1000)} s`,
    { connection: "close" },
  );
}
