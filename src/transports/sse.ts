/**
 * The legacy MCP HTTP+SSE transport (protocol revision 2024-11-05), built on Web Streams.
 *
 * A client opens `GET /sse`; the first event (`event: endpoint`) tells it where to POST its
 * JSON-RPC messages (`/messages/?session_id=…`). Every server → client message then travels on
 * the SSE stream as `event: message`. Each stream is one session with its own MCP server
 * instance, built by the factory.
 *
 * @example
 * ```ts
 * import { McpServer } from "@modelcontextprotocol/server";
 * import { createLegacySseHandler } from "./sse.ts";
 *
 * const sse = createLegacySseHandler({
 *   factory: () => new McpServer({ name: "demo", version: "1.0.0" }),
 * });
 * Deno.serve((req) => {
 *   const { pathname } = new URL(req.url);
 *   if (pathname === "/sse") return sse.handleSse(req);
 *   if (pathname === "/messages/") return sse.handleMessages(req);
 *   return new Response("Not found", { status: 404 });
 * });
 * ```
 *
 * @module
 */

import type {
  JSONRPCMessage,
  McpServer,
  MessageExtraInfo,
  Server,
  Transport,
} from "@modelcontextprotocol/server";
import { isJsonContentType, parseJSONRPCMessage } from "@modelcontextprotocol/server";
import { jsonRpcErrorResponse, requestIdOf } from "../http/jsonrpc_error.ts";
import { DEFAULT_READ_TIMEOUT_MS, readBody, readTimeoutResponse } from "../http/read_body.ts";
import { duplicateIdResponse, InFlightIds, requestIdsOf } from "./inflight_ids.ts";
import { OwnerQuota } from "./owner_quota.ts";
import type { AuthInfo } from "../sdk_types.ts";
import { noteRpc } from "../http/request_info.ts";
import { type Logger, silentLogger } from "../log.ts";
import { formatSseEvent, SSE_HEADERS, SSE_KEEP_ALIVE } from "./sse_frame.ts";
import { errorMessage } from "../errors.ts";

/** Default interval of keep-alive comments on idle streams. */
const DEFAULT_KEEP_ALIVE_MS = 15_000;
/** Default cap on concurrent SSE sessions. */
const DEFAULT_MAX_SESSIONS = 1000;
/** Default cap on one POSTed message (4 MiB, as the reference SDK). */
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Default cap on bytes queued for a client that does not read its stream (1 MiB). */
const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;
/** The `retry` hint sent to open streams when the server shuts down. */
const RECONNECT_HINT_MS = 2000;

/** Default path clients POST to, resolved against the directory of the `GET /sse` URL. */
const DEFAULT_MESSAGES_PATH = "/messages/";

const encoder = new TextEncoder();

function validateKeepAlive(keepAliveMs: number): number {
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

/** An MCP server instance the factory may build. */
export type LegacySseServer = McpServer | Server;

/** Options for {@linkcode createLegacySseHandler}. */
export interface LegacySseHandlerOptions {
  /** Builds a fresh MCP server for each SSE session. */
  factory: (caller: LegacySseCaller) => LegacySseServer | Promise<LegacySseServer>;
  /** Milliseconds of silence before a `: ping` comment; 0 disables. Default 15000. */
  keepAliveMs?: number;
  /** Concurrent sessions allowed; further `GET /sse` answer 503. Default 1000. */
  maxSessions?: number;
  /** Largest POST body accepted, in bytes; larger answer 413. Default 4 MiB. */
  maxBodyBytes?: number;
  /**
   * Path clients POST to, resolved against the directory of the `GET /sse` URL so a mount
   * prefix is kept: `GET /prefix/sse` announces `/prefix/messages/?session_id=…`.
   * Must start with `/`. Default `/messages/`.
   */
  messagesPath?: string;
  /** Where session lifecycle and failures are logged. Default: silent. */
  logger?: Logger;
  /** Most sessions one caller (owner) may hold; further `GET /sse` answer 503. Default unbounded. */
  maxSessionsPerClient?: number | undefined;
  /** How long a POST body may take to arrive (ms). Default 30 s. */
  readTimeoutMs?: number | undefined;
  /** Most bytes queued for a client that does not read (see the transport). Default 1 MiB. */
  maxQueuedBytes?: number | undefined;
}

/** Who makes a request, as established by the HTTP layer. */
export interface LegacySseCaller {
  /** Non-secret owner key: a session only accepts messages from the caller that opened it. */
  owner: string;
  /** Authentication surfaced to MCP handlers. */
  authInfo?: AuthInfo;
}

/** The caller of a request nobody authenticated. */
const ANONYMOUS_CALLER: LegacySseCaller = { owner: "anonymous" };

/** The legacy SSE endpoints; the HTTP app routes requests to them. */
export interface LegacySseHandler {
  /** Serves `GET /sse`: opens a session and streams its messages. */
  handleSse(req: Request, caller?: LegacySseCaller): Promise<Response>;
  /** Serves `POST /messages/?session_id=…`: delivers one JSON-RPC message. */
  handleMessages(req: Request, caller?: LegacySseCaller): Promise<Response>;
  /** Closes every session and refuses new ones. */
  close(): Promise<void>;
  /** Number of open sessions. */
  readonly sessionCount: number;
}

// JSON-RPC error codes used in HTTP error bodies (-32001 for an unknown session, as the SDK).
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const SERVER_ERROR = -32000;
const SESSION_NOT_FOUND = -32001;

/** Media ranges that cover `text/event-stream`, by specificity (most specific wins). */
const EVENT_STREAM_RANGES: ReadonlyMap<string, number> = new Map([
  ["text/event-stream", 3],
  ["text/*", 2],
  ["*/*", 1],
]);

/** Whether an `Accept` header admits `text/event-stream` (absent means anything goes). */
function acceptsEventStream(header: string | null): boolean {
  if (header === null || header.trim() === "") return true;
  let best: { specificity: number; q: number } | undefined;
  for (const part of header.split(",")) {
    const [rawRange = "", ...params] = part.split(";");
    const range = rawRange.trim().toLowerCase();
    const specificity = EVENT_STREAM_RANGES.get(range);
    if (specificity === undefined) continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split("=").map((s) => s.trim().toLowerCase());
      if (key === "q" && value !== undefined) {
        const parsed = Number(value);
        if (!Number.isNaN(parsed)) q = parsed;
      }
    }
    if (best === undefined || specificity > best.specificity) best = { specificity, q };
  }
  return best !== undefined && best.q > 0;
}

/** Directory of the GET URL path + messagesPath: `/prefix/sse` → `/prefix/messages/`. */
function messagesEndpointFor(url: URL, messagesPath: string): string {
  const dir = url.pathname.replace(/\/+$/, "").replace(/\/[^/]*$/, "");
  return dir + messagesPath;
}

/** Says briefly why a parsed value is not a JSON-RPC message. */
function invalidMessageReason(value: unknown): string {
  if (Array.isArray(value)) {
    return "JSON-RPC batches are not supported on the legacy SSE transport; POST one message at a time";
  }
  if (typeof value !== "object" || value === null) {
    return "the body must be a JSON object holding one JSON-RPC message";
  }
  if ((value as Record<string, unknown>).jsonrpc !== "2.0") {
    return 'the "jsonrpc" member must be "2.0"';
  }
  return "the body is not a valid JSON-RPC request, notification or response";
}

interface Session {
  readonly transport: LegacySseServerTransport;
  readonly owner: string;
  server: LegacySseServer | undefined;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * Creates the legacy HTTP+SSE endpoints. Each `GET /sse` builds a server with `factory` and
 * connects it to a {@linkcode LegacySseServerTransport}; the session ends when the client goes
 * away, the server closes, or {@linkcode LegacySseHandler.close} is called.
 *
 * @throws {RangeError} on invalid limits or a `messagesPath` not starting with `/`.
 */
export function createLegacySseHandler(options: LegacySseHandlerOptions): LegacySseHandler {
  const factory = options.factory;
  const keepAliveMs = validateKeepAlive(options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS);
  const maxSessions = positiveInteger("maxSessions", options.maxSessions ?? DEFAULT_MAX_SESSIONS);
  const maxBodyBytes = positiveInteger(
    "maxBodyBytes",
    options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  );
  const messagesPath = options.messagesPath ?? DEFAULT_MESSAGES_PATH;
  if (!messagesPath.startsWith("/")) {
    throw new RangeError(`messagesPath must start with "/", got ${JSON.stringify(messagesPath)}`);
  }
  const logger = (options.logger ?? silentLogger).child({ transport: "sse" });
  const sessions = new Map<string, Session>();
  const perClient = new OwnerQuota(options.maxSessionsPerClient);
  const readTimeoutMs = options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  let shuttingDown = false;

  const closeServer = (sessionId: string, server: LegacySseServer | undefined): void => {
    if (server === undefined) return;
    server.close().catch((error: unknown) => {
      logger.warn("closing the MCP server of an SSE session failed", { sessionId, error });
    });
  };

  async function handleSse(
    req: Request,
    caller: LegacySseCaller = ANONYMOUS_CALLER,
  ): Promise<Response> {
    if (req.method !== "GET") {
      return jsonRpcErrorResponse(
        405,
        SERVER_ERROR,
        `Method not allowed: ${req.method} on the SSE endpoint; open the stream with GET`,
        { Allow: "GET" },
      );
    }
    if (!acceptsEventStream(req.headers.get("accept"))) {
      return jsonRpcErrorResponse(
        406,
        SERVER_ERROR,
        "Not acceptable: the SSE endpoint answers text/event-stream, which the Accept header excludes",
      );
    }
    if (shuttingDown) {
      return jsonRpcErrorResponse(
        503,
        SERVER_ERROR,
        "Service unavailable: the server is shutting down",
      );
    }
    if (sessions.size >= maxSessions) {
      logger.warn("SSE session refused: session limit reached", { maxSessions });
      return jsonRpcErrorResponse(
        503,
        SERVER_ERROR,
        `Service unavailable: all ${maxSessions} SSE sessions are in use; retry later`,
      );
    }

    const releaseShare = perClient.take(caller.owner);
    if (!releaseShare) {
      logger.warn("SSE session refused: per-client session limit reached", {
        maxSessionsPerClient: perClient.max,
      });
      return jsonRpcErrorResponse(
        503,
        SERVER_ERROR,
        `Service unavailable: this client already holds ${perClient.max} SSE sessions (the most ` +
          "one client may hold); close one, then retry",
        { "retry-after": "5" },
      );
    }

    const endpoint = messagesEndpointFor(new URL(req.url), messagesPath);
    let session: Session | undefined = undefined;
    const transport = new LegacySseServerTransport({
      endpoint,
      keepAliveMs,
      ...(options.maxQueuedBytes ? { maxQueuedBytes: options.maxQueuedBytes } : {}),
      onClosed: () => {
        releaseShare();
        const id = transport.sessionId;
        if (sessions.get(id) === session) sessions.delete(id);
        logger.debug("SSE session closed", { sessionId: id, sessions: sessions.size });
        closeServer(id, session?.server);
      },
    });
    const sessionId = transport.sessionId;
    session = { transport, owner: caller.owner, server: undefined };
    // Reserve the slot before awaiting the factory so concurrent opens respect maxSessions.
    sessions.set(sessionId, session);
    transport.onerror = (error) => {
      logger.debug("SSE transport error", { sessionId, error });
    };

    try {
      const server = await factory(caller);
      session.server = server;
      if (transport.closed) {
        // The client left (or close() ran) while the server was being built.
        closeServer(sessionId, server);
        return jsonRpcErrorResponse(
          503,
          SERVER_ERROR,
          "Service unavailable: the session closed early",
        );
      }
      await server.connect(transport);
    } catch (error) {
      logger.error("cannot open SSE session: building or connecting the MCP server failed", {
        sessionId,
        error,
      });
      await transport.close();
      return jsonRpcErrorResponse(
        500,
        SERVER_ERROR,
        "Internal error: the MCP server for this session could not be started",
      );
    }

    if (req.signal.aborted) {
      await transport.close();
      return jsonRpcErrorResponse(503, SERVER_ERROR, "Service unavailable: the client went away");
    }
    req.signal.addEventListener("abort", () => void transport.close(), { once: true });
    logger.debug("SSE session opened", { sessionId, endpoint, sessions: sessions.size });
    return new Response(transport.stream, { status: 200, headers: SSE_HEADERS });
  }

  async function handleMessages(
    req: Request,
    caller: LegacySseCaller = ANONYMOUS_CALLER,
  ): Promise<Response> {
    if (req.method !== "POST") {
      return jsonRpcErrorResponse(
        405,
        SERVER_ERROR,
        `Method not allowed: ${req.method} on the messages endpoint; send messages with POST`,
        { Allow: "POST" },
      );
    }
    const query = new URL(req.url).searchParams;
    const sessionId = query.get("session_id") ?? query.get("sessionId");
    if (sessionId === null || sessionId === "") {
      return jsonRpcErrorResponse(
        400,
        SERVER_ERROR,
        "Bad Request: the session_id query parameter is missing; use the URI from the endpoint event",
      );
    }
    const session = sessions.get(sessionId);
    // Another caller's session is answered like an unknown one: ids are not capabilities.
    if (session === undefined || session.transport.closed || session.owner !== caller.owner) {
      return jsonRpcErrorResponse(
        404,
        SESSION_NOT_FOUND,
        "Session not found: it never existed or has ended; open a new stream with GET /sse",
      );
    }
    const contentType = req.headers.get("content-type");
    if (!isJsonContentType(contentType)) {
      return jsonRpcErrorResponse(
        415,
        SERVER_ERROR,
        `Unsupported Media Type: Content-Type must be application/json, got ${
          contentType === null ? "none" : JSON.stringify(contentType)
        }`,
      );
    }

    let body: Awaited<ReturnType<typeof readBody>>;
    try {
      body = await readBody(req, maxBodyBytes, readTimeoutMs);
    } catch (error) {
      logger.debug("reading an SSE message body failed", { sessionId, error });
      return jsonRpcErrorResponse(
        400,
        SERVER_ERROR,
        "Bad Request: the request body could not be read to the end",
      );
    }
    if (body.kind === "timedOut") return readTimeoutResponse(readTimeoutMs);
    if (body.kind === "tooLarge") {
      await req.body?.cancel().catch(() => {});
      return jsonRpcErrorResponse(
        413,
        SERVER_ERROR,
        `Payload too large: the message exceeds the ${maxBodyBytes}-byte limit`,
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(body.text);
    } catch (error) {
      const reason = errorMessage(error);
      return jsonRpcErrorResponse(400, PARSE_ERROR, `Parse error: ${reason}`);
    }
    noteRpc(req, value);
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(value);
    } catch {
      return jsonRpcErrorResponse(
        400,
        INVALID_REQUEST,
        `Invalid Request: ${invalidMessageReason(value)}`,
        undefined,
        requestIdOf(value),
      );
    }
    const claim = session.transport.inFlight.claim(requestIdsOf(value));
    if ("duplicate" in claim) return duplicateIdResponse(claim.duplicate);

    const extra: MessageExtraInfo = { request: req };
    if (caller.authInfo !== undefined) extra.authInfo = caller.authInfo;
    try {
      session.transport.handlePostMessage(message, extra);
    } catch (error) {
      claim.release();
      logger.debug("SSE message not delivered", { sessionId, error });
      return jsonRpcErrorResponse(
        404,
        SESSION_NOT_FOUND,
        "Session not found: it ended while the message was being received; open a new stream",
      );
    }
    return new Response("Accepted", {
      status: 202,
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  }

  async function close(): Promise<void> {
    shuttingDown = true;
    const open = [...sessions.values()];
    // Clients reconnect after the hint, by which time a restarted server is listening again.
    for (const session of open) session.transport.hintReconnect(RECONNECT_HINT_MS);
    await Promise.all(open.map((session) => session.transport.close()));
  }

  return {
    handleSse,
    handleMessages,
    close,
    get sessionCount(): number {
      return sessions.size;
    },
  };
}
