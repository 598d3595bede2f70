/**
 * The legacy MCP HTTP+SSE transport (protocol revision 2024-11-05) as an MCP `Transport`: one
 * SSE stream per session, built on Web Streams. `start()` writes the `endpoint` event naming
 * where the client POSTs (`…/messages/?session_id=…`); every server → client message is then an
 * `event: message` frame. Bounded: a client that stops reading is dropped once its queue passes
 * the cap. The HTTP side (`GET /sse`, `POST /messages/`) is `sse.ts`.
 *
 * @example
 * ```ts
 * import { McpServer } from "@modelcontextprotocol/server";
 * import { LegacySseServerTransport } from "./sse_transport.ts";
 *
 * const transport = new LegacySseServerTransport({ endpoint: "/messages/" });
 * await new McpServer({ name: "demo", version: "1.0.0" }).connect(transport);
 * const response = new Response(transport.stream, {
 *   headers: { "content-type": "text/event-stream" },
 * });
 * ```
 *
 * @module
 */

import type { JSONRPCMessage, MessageExtraInfo, Transport } from "@modelcontextprotocol/server";
import { InFlightIds } from "./inflight_ids.ts";
import { formatSseEvent, SSE_KEEP_ALIVE } from "./sse_frame.ts";

/** Default interval of keep-alive comments on idle streams (ms). */
export const DEFAULT_KEEP_ALIVE_MS = 15_000;
/** Default cap on bytes queued for a client that does not read its stream (1 MiB). */
const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

const encoder = new TextEncoder();

/**
 * Checks a keep-alive interval (ms; 0 disables keep-alives).
 *
 * @throws {RangeError} when it is negative or not finite.
 */
export function validateKeepAlive(keepAliveMs: number): number {
  if (!Number.isFinite(keepAliveMs) || keepAliveMs < 0) {
    throw new RangeError(
      `keepAliveMs must be a finite number of milliseconds >= 0 (0 disables keep-alives), got ${keepAliveMs}`,
    );
  }
  return keepAliveMs;
}

/** Appends `session_id=<id>` to an endpoint, keeping it relative when it was relative. */
function endpointWithSession(endpoint: string, sessionId: string): string {
  const absolute = URL.canParse(endpoint);
  const url = new URL(endpoint, "http://placeholder.invalid");
  url.searchParams.set("session_id", sessionId);
  return absolute ? url.href : url.pathname + url.search + url.hash;
}

/** Options for {@linkcode LegacySseServerTransport}. */
export interface LegacySseServerTransportOptions {
  /**
   * The URI clients POST to, without the session id (the transport appends
   * `session_id=<id>`). A relative URI (path + query) stays relative.
   */
  endpoint: string;
  /** Session id; defaults to `crypto.randomUUID()`. */
  sessionId?: string;
  /** Milliseconds of silence before a `: ping` comment is written; 0 disables. Default 15000. */
  keepAliveMs?: number;
  /**
   * Called once when the transport closes, for any reason, after `onclose`. Unlike `onclose`,
   * `server.connect()` does not take this over, so session bookkeeping belongs here.
   */
  onClosed?: () => void;
  /**
   * Most bytes queued for a client that is not reading; past it the client is dropped (the
   * stream errors and the session ends) rather than letting the queue grow. One message larger
   * than this still goes out when nothing else is queued. Default 1 MiB.
   */
  maxQueuedBytes?: number;
}

/**
 * One legacy SSE connection as an MCP {@linkcode Transport}. Serve {@linkcode stream} as the
 * body of the `GET /sse` response and pass POSTed messages to {@linkcode handlePostMessage}.
 *
 * `start()` (called by `server.connect()`) writes the `endpoint` event; `send()` writes
 * `event: message`. The transport closes itself when the stream is cancelled (client went away).
 */
export class LegacySseServerTransport implements Transport {
  /** The session id, also carried in the endpoint URI. */
  readonly sessionId: string;
  /** The SSE body to send to the client. */
  readonly stream: ReadableStream<Uint8Array>;
  /** Called when the connection closes for any reason. */
  onclose?: () => void;
  /** Called on out-of-band errors. */
  onerror?: (error: Error) => void;
  /** Called with each inbound JSON-RPC message. */
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  readonly #endpoint: string;
  readonly #keepAliveMs: number;
  readonly #onClosed: (() => void) | undefined;
  readonly #maxQueuedBytes: number;
  /** Requests delivered whose answer has not been sent yet. */
  readonly inFlight: InFlightIds = new InFlightIds();
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #started = false;
  #closed = false;
  #keepAliveTimer: ReturnType<typeof setTimeout> | undefined;

  /** Creates the transport and its (still empty) SSE stream. */
  constructor(options: LegacySseServerTransportOptions) {
    this.sessionId = options.sessionId ?? crypto.randomUUID();
    this.#endpoint = endpointWithSession(options.endpoint, this.sessionId);
    this.#keepAliveMs = validateKeepAlive(options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS);
    this.#onClosed = options.onClosed;
    this.#maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        cancel: () => {
          this.#finish(false);
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: this.#maxQueuedBytes }),
    );
  }

  /** The URI announced in the `endpoint` event (includes the session id). */
  get endpoint(): string {
    return this.#endpoint;
  }

  /** Whether the transport has closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Writes the `endpoint` event and starts keep-alives. Called by `server.connect()`. */
  start(): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new Error(`Cannot start SSE session ${this.sessionId}: it is already closed`),
      );
    }
    if (this.#started) {
      return Promise.reject(
        new Error(
          `Cannot start SSE session ${this.sessionId} twice (server.connect() already starts it)`,
        ),
      );
    }
    this.#started = true;
    this.#write(formatSseEvent({ event: "endpoint", data: this.#endpoint }));
    return Promise.resolve();
  }

  /** Writes one JSON-RPC message as `event: message`. */
  send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new Error(`Cannot send on SSE session ${this.sessionId}: the stream is closed`),
      );
    }
    const { id } = message as { id?: unknown };
    if ((typeof id === "string" || typeof id === "number") && !("method" in message)) {
      this.inFlight.release(id);
    }
    this.#write(formatSseEvent({ event: "message", data: JSON.stringify(message) }));
    return Promise.resolve();
  }

  /**
   * Delivers a message the client POSTed. The caller validates it first.
   *
   * @throws {Error} when the transport is closed.
   */
  handlePostMessage(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    if (this.#closed) {
      throw new Error(`Cannot deliver message to SSE session ${this.sessionId}: it is closed`);
    }
    this.onmessage?.(message, extra);
  }

  /** Tells the client how long to wait before reconnecting (an SSE `retry` field). */
  hintReconnect(ms: number): void {
    this.#write(`retry: ${Math.max(0, Math.round(ms))}\n\n`);
  }

  /** Ends the stream and fires `onclose` (once). */
  close(): Promise<void> {
    this.#finish(true);
    return Promise.resolve();
  }

  #write(text: string): void {
    if (this.#closed) return;
    const bytes = encoder.encode(text);
    // Bytes queued that the client has not taken yet. A lone message bigger than the cap still
    // goes out; a client that lets the queue pass the cap is not reading, and is dropped.
    const queued = this.#maxQueuedBytes - (this.#controller.desiredSize ?? 0);
    if (queued > 0 && queued + bytes.byteLength > this.#maxQueuedBytes) {
      this.onerror?.(
        new Error(`SSE session ${this.sessionId}: the client is not reading; dropped`),
      );
      try {
        this.#controller.error(new Error("SSE client too slow: queue limit reached"));
      } catch {
        // already gone
      }
      this.#finish(false);
      return;
    }
    try {
      this.#controller.enqueue(bytes);
    } catch (error) {
      // The stream went away under us: treat it as the client leaving.
      this.onerror?.(
        new Error(`SSE session ${this.sessionId}: write failed: ${String(error)}`),
      );
      this.#finish(false);
      return;
    }
    this.#armKeepAlive();
  }

  #armKeepAlive(): void {
    if (this.#keepAliveTimer !== undefined) clearTimeout(this.#keepAliveTimer);
    this.#keepAliveTimer = undefined;
    if (this.#keepAliveMs === 0 || this.#closed) return;
    this.#keepAliveTimer = setTimeout(() => {
      this.#keepAliveTimer = undefined;
      this.#write(SSE_KEEP_ALIVE);
    }, this.#keepAliveMs);
  }

  #finish(closeStream: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#keepAliveTimer !== undefined) clearTimeout(this.#keepAliveTimer);
    this.#keepAliveTimer = undefined;
    if (closeStream) {
      try {
        this.#controller.close();
      } catch {
        // Already closed or errored: nothing left to end.
      }
    }
    try {
      this.onclose?.();
    } finally {
      this.#onClosed?.();
    }
  }
}
