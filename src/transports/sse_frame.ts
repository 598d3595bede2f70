/**
 * Server-Sent Events framing: turns events into `text/event-stream` text, the response headers
 * every SSE stream carries, and the comment lines used as keep-alives.
 *
 * @example
 * ```ts
 * import { formatSseEvent, SSE_HEADERS } from "./sse_frame.ts";
 *
 * const body = formatSseEvent({ event: "message", data: JSON.stringify({ ok: true }) });
 * const response = new Response(body, { headers: SSE_HEADERS });
 * ```
 *
 * @module
 */

/** One event on a `text/event-stream`. */
export interface SseEvent {
  /** Event type (`event:` field); omitted means the default type `message`. */
  event?: string;
  /** Event id (`id:` field); clients echo the last one in `Last-Event-ID`. */
  id?: string;
  /** Payload; a multi-line value is written as several `data:` lines. */
  data: string;
  /** Reconnection delay in milliseconds (`retry:` field). */
  retry?: number;
}

/**
 * Response headers for an SSE stream. `Connection: keep-alive` is deliberately absent: it is a
 * connection-specific header that HTTP/2 and HTTP/3 forbid.
 */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
});

/** The keep-alive comment written on idle streams (`: ping`). */
export const SSE_KEEP_ALIVE: string = ": ping\n\n";

const LINE_BREAK = /\r\n|\r|\n/;

function assertSingleLine(field: string, value: string): void {
  if (value.includes("\n") || value.includes("\r")) {
    throw new TypeError(
      `Cannot write SSE ${field} field: it contains a line break (CR or LF), which would end the field early`,
    );
  }
}

/**
 * Formats one event as `text/event-stream` text, ending with the blank line that dispatches it.
 *
 * @throws {TypeError} when `event` or `id` contains CR or LF, or `id` contains NUL.
 * @throws {RangeError} when `retry` is not a non-negative integer.
 */
export function formatSseEvent(event: SseEvent): string {
  let out = "";
  if (event.event !== undefined) {
    assertSingleLine("event", event.event);
    out += `event: ${event.event}\n`;
  }
  if (event.id !== undefined) {
    assertSingleLine("id", event.id);
    if (event.id.includes("\0")) {
      throw new TypeError("Cannot write SSE id field: it contains NUL, which clients ignore");
    }
    out += `id: ${event.id}\n`;
  }
  if (event.retry !== undefined) {
    if (!Number.isSafeInteger(event.retry) || event.retry < 0) {
      throw new RangeError(
        `Cannot write SSE retry field: ${event.retry} is not a non-negative integer of milliseconds`,
      );
    }
    out += `retry: ${event.retry}\n`;
  }
  for (const line of event.data.split(LINE_BREAK)) {
    out += line === "" ? "data:\n" : `data: ${line}\n`;
  }
  return out + "\n";
}

/**
 * Formats a comment (ignored by clients, keeps proxies from cutting an idle stream). Multi-line
 * text becomes several comment lines.
 */
export function formatSseComment(text = "ping"): string {
  let out = "";
  for (const line of text.split(LINE_BREAK)) {
    out += line === "" ? ":\n" : `: ${line}\n`;
  }
  return out + "\n";
}
