/**
 * Streamable HTTP at `/mcp`, both eras on one path:
 *
 * - 2026-07-28 requests (those carrying the `_meta` envelope) are served statelessly by the SDK's
 *   `createMcpHandler` (strict: `legacy: "reject"`).
 * - A 2025-era `initialize` opens a real session: its own server instance and
 *   `WebStandardStreamableHTTPServerTransport` with a bounded event store, so clients get the
 *   standalone GET stream, DELETE, resumability with `Last-Event-ID`, and priming events with
 *   `retry` (2025-11-25 clients). Sessions are bounded and reaped when idle.
 * - Session-less 2025 POSTs are served statelessly (`legacyStatelessFallback`).
 *
 * The POST body is read and parsed once and handed to whichever leg serves it.
 *
 * @module
 */

import {
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  legacyStatelessFallback,
  type McpRequestContext,
  WebStandardStreamableHTTPServerTransport,
} from "@modelcontextprotocol/server";
import { JsonRpcCode } from "../errors.ts";
import type { McpServer } from "../sdk_types.ts";
import { jsonRpcErrorResponse, requestIdOf } from "../protocol/jsonrpc_error.ts";
import { DEFAULT_READ_TIMEOUT_MS } from "../protocol/read_body.ts";
import { ANONYMOUS, fromAuthInfo, ownerKey, type Principal, toAuthInfo } from "../principal.ts";
import type { Logger } from "../log.ts";
import { BoundedEventStore, DEFAULT_MAX_EVENTS, EventStoreBudget } from "./event_store.ts";
import { createFastPath } from "./fast_path.ts";
import { duplicateIdResponse, InFlightIds, requestIdsOf } from "./inflight_ids.ts";
import type { ListenHandler, ListenRequest } from "./listen.ts";
import { OwnerQuota } from "./owner_quota.ts";
import { readJsonPost } from "./post_body.ts";
import {
  clientSessionsFull,
  methodNotAllowed,
  notAcceptable,
  sessionNotFound,
  sessionsFull,
} from "./refusals.ts";
import type { ServerFactory } from "./server_factory.ts";
import { type QuickSession, quickSessionCall } from "./session_quick_call.ts";
import { SessionRegistry } from "./sessions.ts";
import type { ResumedCall, SharedSessions } from "./shared_sessions.ts";
import type { CallHandoff } from "../call_handoff.ts";
import { onResponseDone } from "./track_body.ts";

export type { ServerFactory } from "./server_factory.ts";

/** Options for {@linkcode createStreamableHttpHandler}. */
export interface StreamableHttpOptions {
  /** The server factory every leg uses. */
  factory: ServerFactory;
  /** Logger. */
  logger: Logger;
  /** Most live sessions (503 when full). */
  maxSessions: number;
  /** Sessions idle this long are ended. */
  sessionTtlMs: number;
  /** SSE keep-alive comment interval. */
  keepAliveMs: number;
  /** Largest POST body in bytes (413 above). Default 4 MiB. */
  maxBodyBytes?: number;
  /** `retry` advertised to 2025-11-25 clients in priming events (ms). Default 1000. */
  retryIntervalMs?: number;
  /** Events kept per session for resumability. Default 1000. */
  maxEventsPerSession?: number;
  /** Serves 2026-07-28 `subscriptions/listen` (job and task notifications). */
  listen?: ListenHandler | undefined;
  /** Most live sessions one caller may hold. Default unbounded. */
  maxSessionsPerClient?: number | undefined;
  /** How long a POST body may take to arrive (ms). Default 30 s. */
  readTimeoutMs?: number | undefined;
  /** The byte budget every session's event store shares (a private one when absent). */
  eventBudget?: EventStoreBudget | undefined;
  /**
   * Serve well-formed 2026-07-28 `tools/list` and `tools/call` with the fast engine (one server
   * per caller, reused; see `fast_path.ts`), and quick session calls of tools that only read the
   * server's own state (`session_quick_call.ts`). Default true.
   */
  fastPath?: boolean;
  /**
   * Callers whose servers the factory builds identically share this key. Default: the
   * principal's id, fal key and scopes — what the factory's servers may depend on (never the
   * credential itself or its expiry, which change from request to request).
   */
  reuseKey?: (principal: Principal) => string;
  /**
   * Sessions shared by the instances of a cluster: any instance serves any session, streams are
   * served from the shared log, and per-client caps are counted cluster-wide. In process when
   * absent.
   */
  shared?: SharedSessions | undefined;
  /** Where session calls record their jobs, so another instance can finish them. */
  calls?: CallHandoff | undefined;
}

/** The `/mcp` handler. */
export interface StreamableHttpHandler {
  /** Serves one request to `/mcp` for an authenticated caller. */
  fetch(request: Request, principal?: Principal): Promise<Response>;
  /** Number of live 2025-era sessions. */
  readonly sessionCount: number;
  /** Ends every session and in-flight exchange. */
  close(): Promise<void>;
}

interface Session extends QuickSession {
  id: string;
  /** Who opened it; only the same caller (and fal key) may use it. */
  owner: string;
  transport: WebStandardStreamableHTTPServerTransport;
  /** Request ids being answered now (a second request with one of them is refused). */
  inFlight: InFlightIds;
  /** The requests being answered now, by id (a cluster records the ones waiting on a job). */
  requests: Map<string | number, ResumedCall["request"]>;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 4 * 1024 * 1024;
const ALLOW = "GET, POST, DELETE";

// `io.modelcontextprotocol/clientInfo` is a SHOULD: requests without it are served.
const ENVELOPE_KEYS = ["io.modelcontextprotocol/clientCapabilities"];

/**
 * The envelope keys a well-formed 2026-07-28 request lacks. Anything else (notifications,
 * responses, malformed messages, a malformed envelope) is left to the SDK's own checks.
 */
function missingEnvelopeKeys(body: unknown): string[] {
  const message = body as {
    jsonrpc?: unknown;
    id?: unknown;
    method?: unknown;
    params?: { _meta?: unknown };
  } | null;
  if (
    !message || typeof message !== "object" || message.jsonrpc !== "2.0" ||
    typeof message.method !== "string" ||
    (typeof message.id !== "string" && typeof message.id !== "number")
  ) return [];
  const meta = message.params?._meta;
  if (!meta || typeof meta !== "object") return [];
  const envelope = meta as Record<string, unknown>;
  if (typeof envelope["io.modelcontextprotocol/protocolVersion"] !== "string") return [];
  return ENVELOPE_KEYS.filter((key) => envelope[key] === undefined);
}

/** A 2024/2025 protocol revision (what a session's MCP-Protocol-Version header may name). */
const SESSION_ERA_VERSION = /^202[45]-\d\d-\d\d$/;

/**
 * Whether a POST to a session is certainly 2025-era, so the SDK's classifier (whose failed
 * message guards cost more than the rest of a session call) need not run: one well-formed
 * JSON-RPC request or notification without any `io.modelcontextprotocol/` key in its `_meta`,
 * and no 2026 version in the header. Anything else (responses, batches, malformed messages) is
 * classified by the SDK as before.
 */
function surelySessionEra(request: Request, body: unknown): boolean {
  if (!request.headers.has("mcp-session-id")) return false;
  const header = request.headers.get("mcp-protocol-version");
  if (header !== null && !SESSION_ERA_VERSION.test(header.trim())) return false;
  if (typeof body !== "object" || body === null || Array.isArray(body)) return false;
  const message = body as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  if (message.jsonrpc !== "2.0" || typeof message.method !== "string") return false;
  if (!["undefined", "string", "number"].includes(typeof message.id)) return false;
  const params = message.params;
  if (params === undefined) return true;
  if (typeof params !== "object" || params === null) return false;
  const meta = (params as { _meta?: unknown })._meta;
  if (meta === undefined) return true;
  if (typeof meta !== "object" || meta === null) return false;
  return !Object.keys(meta).some((key) => key.startsWith("io.modelcontextprotocol/"));
}

/** Creates the `/mcp` handler serving 2026-07-28 statelessly and 2025-era sessions. */
export function createStreamableHttpHandler(options: StreamableHttpOptions): StreamableHttpHandler {
  const log = options.logger.child({ transport: "streamable_http" });
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const limits = { maxBodyBytes, readTimeoutMs: options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS };
  const onerror = (error: Error) => log.debug("mcp transport error", { error: error.message });
  const modernOptions = {
    legacy: "reject",
    keepAliveMs: options.keepAliveMs,
    maxRequestBodySize: maxBodyBytes,
    onerror,
  } as const;
  const fromContext = (ctx: McpRequestContext) => options.factory(fromAuthInfo(ctx.authInfo));
  const modern = createMcpHandler(fromContext, modernOptions);
  // Tool calls can run for minutes: answer them as an SSE stream from the start, so keep-alive
  // comments hold proxies open and a client that leaves is noticed at once (Deno does not report
  // a disconnect while a handler has not started its response).
  const modernStreaming = createMcpHandler(fromContext, {
    ...modernOptions,
    responseMode: "sse",
  });
  const stateless = legacyStatelessFallback(fromContext, onerror, {
    maxRequestBodySize: maxBodyBytes,
  });
  const perClient = new OwnerQuota(options.maxSessionsPerClient);
  const eventBudget = options.eventBudget ?? new EventStoreBudget();
  /** The SDK's 2026 leg for a message: tool calls stream, everything else answers JSON. */
  const modernFetch = (request: Request, parsedBody: unknown, principal: Principal) => {
    const method = (parsedBody as { method?: unknown } | null)?.method;
    const leg = method === "tools/call" ? modernStreaming : modern;
    return leg.fetch(request, { parsedBody, authInfo: toAuthInfo(principal) });
  };
  const fastPath = options.fastPath === false ? undefined : createFastPath({
    factory: options.factory,
    reuseKey: options.reuseKey ?? ((p) => `${ownerKey(p)}|${[...p.scopes].sort().join(" ")}`),
    sdkFetch: modernFetch,
    keepAliveMs: options.keepAliveMs,
  });
  // Quick session calls are served on one instance only: a cluster's sessions keep the SDK path.
  const quickCalls = options.fastPath !== false && options.shared === undefined;
  const sessions = new SessionRegistry<Session>({
    maxSessions: options.maxSessions,
    idleTtlMs: options.sessionTtlMs,
    logger: log,
  });

  const shared = options.shared;
  const authInfoOf = toAuthInfo;

  /** Builds a session's server and transport; the session exists once `initialize` is served. */
  async function startSession(id: string, principal: Principal, releaseShare: () => void) {
    let server: McpServer;
    try {
      server = await options.factory(principal);
    } catch (error) {
      releaseShare();
      throw error;
    }
    let session: Session | undefined;
    const eventStore = shared ? shared.eventStore(id) : new BoundedEventStore({
      maxEvents: options.maxEventsPerSession ?? DEFAULT_MAX_EVENTS,
      budget: eventBudget,
    });
    // Ending here ends this instance's copy; a cluster's session ends everywhere on DELETE only.
    const ended = () => {
      releaseShare();
      if (eventStore instanceof BoundedEventStore) eventStore.clear();
    };
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore,
      retryInterval: options.retryIntervalMs ?? 1000,
      keepAliveMs: options.keepAliveMs,
      maxRequestBodySize: maxBodyBytes,
      onsessioninitialized: (id) => {
        session = {
          id,
          owner: ownerKey(principal),
          server,
          eventStore,
          retryIntervalMs: options.retryIntervalMs ?? 1000,
          transport,
          inFlight: new InFlightIds(),
          requests: new Map(),
          close: () => {
            ended();
            return server.close();
          },
        };
        sessions.add(session);
      },
      onsessionclosed: (id) => {
        ended();
        sessions.delete(id);
        log.info("session ended", { session_id: id });
      },
    });
    transport.onerror = onerror;
    server.server.onclose = () => {
      ended();
      if (session) sessions.delete(session.id);
    };
    await server.connect(transport);
    return { server, transport, eventStore, ended, session: () => session };
  }

  async function openSession(
    request: Request,
    parsedBody: unknown,
    principal: Principal,
  ): Promise<Response> {
    if (sessions.isFull) {
      log.warn("session limit reached", { max_sessions: options.maxSessions });
      return sessionsFull(options.maxSessions, "sessions", requestIdOf(parsedBody));
    }
    const id = crypto.randomUUID();
    const initialize = (Array.isArray(parsedBody) ? parsedBody : [parsedBody])
      .find((m) => isInitializeRequest(m));
    const releaseShare = shared
      ? (await shared.create(id, principal, initialize, perClient.max) ? () => {} : undefined)
      : perClient.take(principal.id);
    if (!releaseShare) {
      log.warn("per-client session limit reached", {
        principal: principal.id,
        max_sessions_per_client: perClient.max,
      });
      return clientSessionsFull(
        perClient.max,
        "sessions",
        "end one with DELETE or let an idle one expire",
        requestIdOf(parsedBody),
      );
    }
    const started = await startSession(id, principal, releaseShare);
    const response = await started.transport.handleRequest(request, {
      parsedBody,
      authInfo: authInfoOf(principal),
    });
    const session = started.session();
    if (!session) {
      started.ended();
      await started.server.close(); // initialize was refused: nothing to keep
      if (shared) await shared.end(id, principal).catch(() => {});
      return response;
    }
    log.info("session started", { session_id: id });
    return onResponseDone(response, sessions.open(session.id));
  }

  /** Sessions being rebuilt here now (concurrent requests share one rebuild). */
  const rebuilding = new Map<string, Promise<Session | undefined>>();

  /**
   * A cluster's session this instance has no copy of: its server is rebuilt from the client's
   * `initialize` (replayed, its answer discarded), so any instance serves any session.
   */
  function adopt(id: string, principal: Principal): Promise<Session | undefined> {
    let pending = rebuilding.get(id);
    if (!pending) {
      pending = rebuild(id, principal).finally(() => rebuilding.delete(id));
      rebuilding.set(id, pending);
    }
    return pending;
  }

  async function rebuild(id: string, principal: Principal): Promise<Session | undefined> {
    const record = await shared?.get(id);
    if (!record || record.owner !== ownerKey(principal)) return undefined;
    const started = await startSession(id, principal, () => {});
    const store = started.eventStore as { muted?: boolean };
    store.muted = true;
    try {
      const headers = {
        accept: "application/json, text/event-stream",
        "content-type": "application/json",
      };
      const init = await started.transport.handleRequest(
        new Request("http://session.rebuild/mcp", { method: "POST", headers }),
        { parsedBody: record.initialize, authInfo: authInfoOf(principal) },
      );
      await init.text();
      const initialized = await started.transport.handleRequest(
        new Request("http://session.rebuild/mcp", {
          method: "POST",
          headers: { ...headers, "mcp-session-id": id },
        }),
        {
          parsedBody: { jsonrpc: "2.0", method: "notifications/initialized" },
          authInfo: authInfoOf(principal),
        },
      );
      await initialized.body?.cancel();
    } finally {
      store.muted = false;
    }
    const session = started.session();
    if (!session) {
      await started.server.close();
      return undefined;
    }
    log.info("session served by this instance", { session_id: id });
    return session;
  }

  /** Finishes, here, a call whose instance died: replays its request with its job adopted. */
  async function finishCall(id: string, principal: Principal, call: ResumedCall) {
    const session = sessions.get(id) ?? await adopt(id, principal);
    if (!session) return;
    const transport = session.transport as unknown as {
      _requestToStreamMapping: Map<string | number, string>;
      onmessage?: (message: unknown, extra: unknown) => void;
    };
    transport._requestToStreamMapping.set(call.request.id, call.streamId);
    options.calls?.adopt(id, call.request.id, {
      jobId: call.jobId,
      lastProgress: call.lastProgress,
    });
    log.info("finishing a call taken over from a stopped instance", {
      session_id: id,
      job_id: call.jobId,
    });
    transport.onmessage?.(call.request, { authInfo: authInfoOf(principal) });
  }

  options.calls?.onJob((sessionId, requestId, jobId) => {
    const session = sessions.get(sessionId);
    const request = session?.requests.get(requestId);
    const transport = session?.transport as unknown as {
      _requestToStreamMapping?: Map<string | number, string>;
    } | undefined;
    const streamId = transport?._requestToStreamMapping?.get(requestId);
    if (!shared || !request || !streamId) return;
    shared.noteCall(sessionId, streamId, request, jobId).catch((error) =>
      log.warn("recording a call's job failed", { session_id: sessionId, job_id: jobId, error })
    );
  });
  void shared?.onEnded((id) => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    void session.close().catch(() => {});
  }).catch((error) => log.warn("listening for ended sessions failed", { error }));

  function notFound(parsedBody?: unknown): Response {
    return sessionNotFound("send a new initialize request", requestIdOf(parsedBody));
  }

  /** GET of a cluster's session: its streams are served from the shared log, on any instance. */
  async function serveSharedStream(id: string, request: Request, principal: Principal) {
    if (!request.headers.get("accept")?.includes("text/event-stream")) {
      return notAcceptable("text/event-stream");
    }
    const record = await shared!.get(id);
    if (!record || record.owner !== ownerKey(principal)) return notFound();
    shared!.touch(id, principal);
    const version = request.headers.get("mcp-protocol-version") ?? record.protocolVersion;
    const priming = SESSION_ERA_VERSION.test(version) && version >= "2025-11-25";
    return await shared!.serveStream(id, request, priming, (call) => {
      finishCall(id, principal, call).catch((error) =>
        log.warn("finishing a taken-over call failed", { session_id: id, error })
      );
    });
  }

  /** DELETE of a cluster's session: ends it on every instance. */
  async function endShared(id: string, principal: Principal) {
    const record = await shared!.get(id);
    if (!record || record.owner !== ownerKey(principal)) return notFound();
    await shared!.end(id, principal);
    const session = sessions.get(id);
    sessions.delete(id);
    await session?.close().catch(() => {});
    log.info("session ended", { session_id: id });
    return new Response(null, { status: 200 });
  }

  async function serveSession(
    id: string,
    request: Request,
    principal: Principal,
    parsedBody?: unknown,
  ) {
    let session = sessions.get(id);
    if (!session && shared) session = await adopt(id, principal);
    // Another caller's session is answered like an unknown one: ids are not capabilities.
    if (!session || session.owner !== ownerKey(principal)) return notFound(parsedBody);
    shared?.touch(id, principal);
    const ids = requestIdsOf(parsedBody);
    const claim = session.inFlight.claim(ids);
    if ("duplicate" in claim) return duplicateIdResponse(claim.duplicate);
    const live = session;
    if (shared) {
      for (const message of Array.isArray(parsedBody) ? parsedBody : [parsedBody]) {
        const m = message as ResumedCall["request"] | null;
        if (m && typeof m.method === "string" && m.id !== undefined) live.requests.set(m.id, m);
      }
    }
    const opened = sessions.open(id);
    const done = () => {
      claim.release();
      for (const requestId of ids) live.requests.delete(requestId);
      opened();
    };
    try {
      const quick = quickCalls && parsedBody !== undefined && request.method === "POST"
        ? await quickSessionCall(session, request, parsedBody, principal)
        : undefined;
      if (quick) {
        done();
        return quick;
      }
      const authInfo = authInfoOf(principal);
      const response = await session.transport.handleRequest(
        request,
        parsedBody === undefined ? { authInfo } : { parsedBody, authInfo },
      );
      return onResponseDone(response, done);
    } catch (error) {
      done();
      throw error;
    }
  }

  async function handlePost(request: Request, principal: Principal): Promise<Response> {
    const read = await readJsonPost(request, limits, log);
    if (!read.ok) return read.response;
    const parsedBody = read.body;
    const fast = fastPath?.serve(request, parsedBody, principal);
    if (fast) return await fast;
    if (surelySessionEra(request, parsedBody)) {
      return serveSession(request.headers.get("mcp-session-id")!, request, principal, parsedBody);
    }
    if (!(await isLegacyRequest(request, parsedBody, { maxRequestBodySize: maxBodyBytes }))) {
      const missing = missingEnvelopeKeys(parsedBody);
      if (missing.length) {
        return jsonRpcErrorResponse(
          400,
          JsonRpcCode.InvalidParams,
          `Invalid params: a 2026-07-28 request's _meta must carry ${missing.join(" and ")}`,
          undefined,
          requestIdOf(parsedBody),
        );
      }
      const method = (parsedBody as { method?: unknown } | null)?.method;
      if (method === "subscriptions/listen" && options.listen) {
        if (request.headers.get("mcp-method") !== method) {
          return jsonRpcErrorResponse(
            400,
            -32020,
            "Header mismatch: the Mcp-Method header must name subscriptions/listen",
            undefined,
            requestIdOf(parsedBody),
          );
        }
        return options.listen(parsedBody as ListenRequest, principal, request.signal);
      }
      return modernFetch(request, parsedBody, principal);
    }
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId) return serveSession(sessionId, request, principal, parsedBody);
    const messages = Array.isArray(parsedBody) ? parsedBody : [parsedBody];
    const malformedInitialize = messages.some((m) =>
      (m as { method?: unknown } | null)?.method === "initialize" && !isInitializeRequest(m)
    );
    if (malformedInitialize) {
      return jsonRpcErrorResponse(
        400,
        JsonRpcCode.InvalidParams,
        "Invalid params: initialize needs params with protocolVersion, capabilities and clientInfo",
        undefined,
        requestIdOf(parsedBody),
      );
    }
    if (messages.some((m) => isInitializeRequest(m))) {
      return openSession(request, parsedBody, principal);
    }
    return stateless(request, { parsedBody, authInfo: toAuthInfo(principal) });
  }

  return {
    async fetch(request: Request, principal: Principal = ANONYMOUS): Promise<Response> {
      switch (request.method) {
        case "POST":
          return await handlePost(request, principal);
        case "GET":
        case "DELETE": {
          const sessionId = request.headers.get("mcp-session-id");
          if (sessionId && shared) {
            return request.method === "GET"
              ? await serveSharedStream(sessionId, request, principal)
              : await endShared(sessionId, principal);
          }
          return sessionId
            ? await serveSession(sessionId, request, principal)
            : await modern.fetch(request);
        }
        default:
          return methodNotAllowed("/mcp", ALLOW);
      }
    },
    get sessionCount() {
      return sessions.size;
    },
    async close() {
      fastPath?.close();
      shared?.close();
      await sessions.close();
      await Promise.all([modern.close(), modernStreaming.close()]);
    },
  };
}
