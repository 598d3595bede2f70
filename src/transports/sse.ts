/**
 * The legacy MCP HTTP+SSE endpoints (protocol revision 2024-11-05): the HTTP side of the
 * transport in `sse_transport.ts`.
 *
 * A client opens `GET /sse`; the first event (`event: endpoint`) tells it where to POST its
 * JSON-RPC messages (`/messages/?session_id=…`). Every server → client message then travels on
 * the SSE stream as `event: message`. Each stream is one session with its own MCP server
 * instance, built by the factory for the caller that opened it; only that caller may post to it.
 * Errors are answered with the same statuses, JSON-RPC codes and wording as `/mcp`
 * (`refusals.ts`, `post_body.ts`), and logged with the same field names.
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
} from "@modelcontextprotocol/server";
import { parseJSONRPCMessage } from "@modelcontextprotocol/server";
import { JsonRpcCode } from "../errors.ts";
import { type Logger, silentLogger } from "../log.ts";
import { ANONYMOUS, ownerKey, type Principal, toAuthInfo } from "../principal.ts";
import { jsonRpcErrorResponse, requestIdOf } from "../protocol/jsonrpc_error.ts";
import { DEFAULT_READ_TIMEOUT_MS } from "../protocol/read_body.ts";
import { duplicateIdResponse, requestIdsOf } from "./inflight_ids.ts";
import { OwnerQuota } from "./owner_quota.ts";
import { readJsonPost } from "./post_body.ts";
import {
  clientSessionsFull,
  methodNotAllowed,
  notAcceptable,
  sessionIdMissing,
  sessionNotFound,
  sessionsFull,
  shuttingDown,
} from "./refusals.ts";
import type { SharedSseSessions } from "./shared_sse.ts";
import { SSE_HEADERS } from "./sse_frame.ts";
import {
  DEFAULT_KEEP_ALIVE_MS,
  LegacySseServerTransport,
  validateKeepAlive,
} from "./sse_transport.ts";

/** Default cap on concurrent SSE sessions. */
const DEFAULT_MAX_SESSIONS = 1000;
/** Default cap on one POSTed message (4 MiB, as the reference SDK). */
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** The `retry` hint sent to open streams when the server shuts down. */
const RECONNECT_HINT_MS = 2000;
/** Default path clients POST to, resolved against the directory of the `GET /sse` URL. */
const DEFAULT_MESSAGES_PATH = "/messages/";
/** How a client that lost its session gets a new one. */
const RECOVER = "open a new stream with GET /sse";

/** An MCP server instance the factory may build. */
export type LegacySseServer = McpServer | Server;

/** Options for {@linkcode createLegacySseHandler}. */
export interface LegacySseHandlerOptions {
  /** Builds a fresh MCP server for each SSE session, for the caller that opens it. */
  factory: (principal: Principal) => LegacySseServer | Promise<LegacySseServer>;
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
  /** Most sessions one caller may hold; further `GET /sse` answer 503. Default unbounded. */
  maxSessionsPerClient?: number | undefined;
  /** How long a POST body may take to arrive (ms). Default 30 s. */
  readTimeoutMs?: number | undefined;
  /** Most bytes queued for a client that does not read (see the transport). Default 1 MiB. */
  maxQueuedBytes?: number | undefined;
  /**
   * Sessions shared by the instances of a cluster: a POST for a session whose stream another
   * instance holds is relayed there, and the per-client cap counts every instance's sessions.
   */
  shared?: SharedSseSessions | undefined;
}

/** The legacy SSE endpoints; the HTTP app routes requests to them. */
export interface LegacySseHandler {
  /** Serves `GET /sse` for `principal` (default: the local owner): opens a session. */
  handleSse(req: Request, principal?: Principal): Promise<Response>;
  /** Serves `POST /messages/?session_id=…`: delivers one JSON-RPC message to a session. */
  handleMessages(req: Request, principal?: Principal): Promise<Response>;
  /** Closes every session and refuses new ones. */
  close(): Promise<void>;
  /** Number of open sessions. */
  readonly sessionCount: number;
}

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

/** 202: the message was handed to the session. */
function accepted(): Response {
  return new Response("Accepted", {
    status: 202,
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });
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
  /** Who opened it ({@linkcode ownerKey}); only the same caller (and fal key) may post to it. */
  readonly owner: string;
  /** The opener's credentials, for messages relayed from other instances. */
  readonly authInfo: MessageExtraInfo["authInfo"];
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
  const limits = {
    maxBodyBytes: positiveInteger("maxBodyBytes", options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES),
    readTimeoutMs: options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
  };
  const messagesPath = options.messagesPath ?? DEFAULT_MESSAGES_PATH;
  if (!messagesPath.startsWith("/")) {
    throw new RangeError(`messagesPath must start with "/", got ${JSON.stringify(messagesPath)}`);
  }
  const log = (options.logger ?? silentLogger).child({ transport: "sse" });
  const sessions = new Map<string, Session>();
  const perClient = new OwnerQuota(options.maxSessionsPerClient);
  let shuttingDownNow = false;

  const closeServer = (sessionId: string, server: LegacySseServer | undefined): void => {
    if (server === undefined) return;
    server.close().catch((error: unknown) => {
      log.warn("closing the MCP server of a session failed", { session_id: sessionId, error });
    });
  };

  async function handleSse(req: Request, principal: Principal = ANONYMOUS): Promise<Response> {
    if (req.method !== "GET") return methodNotAllowed(new URL(req.url).pathname, "GET");
    if (!acceptsEventStream(req.headers.get("accept"))) return notAcceptable("text/event-stream");
    if (shuttingDownNow) return shuttingDown();
    if (sessions.size >= maxSessions) {
      log.warn("session limit reached", { max_sessions: maxSessions });
      return sessionsFull(maxSessions, "SSE sessions");
    }
    const sessionId = crypto.randomUUID();
    const shared = options.shared;
    const releaseShare = shared
      ? (await shared.hold(sessionId, principal, perClient.max, (m) => deliver(sessionId, m))
        ? () => void shared.release(sessionId).catch(() => {})
        : undefined)
      : perClient.take(principal.id);
    if (!releaseShare) {
      log.warn("per-client session limit reached", {
        principal: principal.id,
        max_sessions_per_client: perClient.max,
      });
      return clientSessionsFull(perClient.max, "SSE sessions", "close one");
    }

    const endpoint = messagesEndpointFor(new URL(req.url), messagesPath);
    let session: Session | undefined = undefined;
    const transport = new LegacySseServerTransport({
      sessionId,
      endpoint,
      keepAliveMs,
      ...(options.maxQueuedBytes ? { maxQueuedBytes: options.maxQueuedBytes } : {}),
      onClosed: () => {
        releaseShare();
        const id = transport.sessionId;
        if (sessions.get(id) === session) sessions.delete(id);
        log.info("session ended", { session_id: id });
        closeServer(id, session?.server);
      },
    });
    session = {
      transport,
      owner: ownerKey(principal),
      authInfo: toAuthInfo(principal),
      server: undefined,
    };
    // Reserve the slot before awaiting the factory so concurrent opens respect maxSessions.
    sessions.set(sessionId, session);
    transport.onerror = (error) => {
      log.debug("mcp transport error", { session_id: sessionId, error: error.message });
    };

    try {
      const server = await factory(principal);
      session.server = server;
      if (transport.closed) {
        // The client left (or close() ran) while the server was being built.
        closeServer(sessionId, server);
        return jsonRpcErrorResponse(
          503,
          JsonRpcCode.InternalError,
          "Server busy: the session closed while it was being opened; try again",
        );
      }
      await server.connect(transport);
    } catch (error) {
      log.error("cannot open a session: building or connecting the MCP server failed", {
        session_id: sessionId,
        error,
      });
      await transport.close();
      return jsonRpcErrorResponse(
        500,
        JsonRpcCode.InternalError,
        "Internal error: the MCP server for this session could not be started",
      );
    }

    if (req.signal.aborted) {
      await transport.close();
      return jsonRpcErrorResponse(
        503,
        JsonRpcCode.InternalError,
        "Server busy: the client went away while the session was being opened",
      );
    }
    req.signal.addEventListener("abort", () => void transport.close(), { once: true });
    log.info("session started", { session_id: sessionId });
    return new Response(transport.stream, { status: 200, headers: SSE_HEADERS });
  }

  /** A message relayed from another instance to a session whose stream this one holds. */
  function deliver(sessionId: string, message: JSONRPCMessage): void {
    const session = sessions.get(sessionId);
    if (session === undefined || session.transport.closed) return;
    const claim = session.transport.inFlight.claim(requestIdsOf(message));
    if ("duplicate" in claim) {
      log.warn("relayed message dropped: its request id is already in flight", {
        session_id: sessionId,
      });
      return;
    }
    try {
      session.transport.handlePostMessage(message, { authInfo: session.authInfo });
    } catch {
      claim.release();
    }
  }

  async function handleMessages(
    req: Request,
    principal: Principal = ANONYMOUS,
  ): Promise<Response> {
    if (req.method !== "POST") return methodNotAllowed(new URL(req.url).pathname, "POST");
    const query = new URL(req.url).searchParams;
    const sessionId = query.get("session_id") ?? query.get("sessionId");
    if (sessionId === null || sessionId === "") {
      return sessionIdMissing(
        "the session_id query parameter is missing; use the URI from the endpoint event",
      );
    }
    const session = sessions.get(sessionId);
    // Another caller's session is answered like an unknown one: ids are not capabilities.
    const here = session !== undefined && !session.transport.closed &&
      session.owner === ownerKey(principal);
    if (!here && (options.shared === undefined || session !== undefined)) {
      return sessionNotFound(RECOVER);
    }
    const read = await readJsonPost(req, limits, log);
    if (!read.ok) return read.response;
    const value = read.body;
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(value);
    } catch {
      return jsonRpcErrorResponse(
        400,
        JsonRpcCode.InvalidRequest,
        `Invalid Request: ${invalidMessageReason(value)}`,
        undefined,
        requestIdOf(value),
      );
    }
    if (!here || session === undefined) {
      // Another instance holds the stream (in a cluster): relay the message there.
      if (!(await options.shared!.relay(sessionId, ownerKey(principal), message))) {
        return sessionNotFound(RECOVER, requestIdOf(value));
      }
      log.debug("message relayed to the instance holding the stream", { session_id: sessionId });
      return accepted();
    }
    const claim = session.transport.inFlight.claim(requestIdsOf(value));
    if ("duplicate" in claim) return duplicateIdResponse(claim.duplicate);

    const extra: MessageExtraInfo = { request: req, authInfo: toAuthInfo(principal) };
    try {
      session.transport.handlePostMessage(message, extra);
    } catch (error) {
      claim.release();
      log.debug("message not delivered: the session ended", { session_id: sessionId, error });
      return sessionNotFound(RECOVER, requestIdOf(value));
    }
    return accepted();
  }

  async function close(): Promise<void> {
    shuttingDownNow = true;
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
