/**
 * The HTTP application: one `(Request) => Promise<Response>` that routes `/mcp` (Streamable
 * HTTP), `/sse` + `/messages/` (legacy HTTP+SSE), `/health`, `/ready`, `/metrics` and the OAuth
 * protected-resource metadata. In front of the MCP endpoints, in order: Host/Origin guard, CORS
 * preflight, authentication, per-principal rate limit, stream limit. Each concern lives in its
 * own module; this file only composes them, logs one line per request and counts it.
 *
 * @module
 */

import type { CallHandoff } from "../call_handoff.ts";
import type { SharedSessions } from "../transports/shared_sessions.ts";
import { JsonRpcCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { createLegacySseHandler, type LegacySseHandler } from "../transports/sse.ts";
import {
  createStreamableHttpHandler,
  type ServerFactory,
  type StreamableHttpHandler,
} from "../transports/streamable_http.ts";
import type { ListenHandler } from "../transports/listen.ts";
import { shuttingDown } from "../transports/refusals.ts";
import { onResponseDone } from "../transports/track_body.ts";
import { VERSION } from "../version.ts";
import { Admission } from "./admission.ts";
import { type Authenticator, createAuthenticator } from "./authenticate.ts";
import { BearerTokens } from "./bearer_tokens.ts";
import { preflightResponse, withCors } from "./cors.ts";
import { createRequestGuard, type GuardOptions } from "./dns_rebinding.ts";
import { jsonRpcErrorResponse } from "../protocol/jsonrpc_error.ts";
import type { Principal } from "../principal.ts";
import { RateLimiter } from "./rate_limit.ts";
import { methodLabel, statusLabel } from "./metric_labels.ts";
import { rpcFactsOf } from "../protocol/request_info.ts";

/** Options for {@linkcode createHttpApp}. */
export interface HttpAppOptions {
  /** The one server factory, called with the caller of each request or session. */
  factory: ServerFactory;
  /** Logger. */
  logger: Logger;
  /** Host/Origin validation settings. */
  guard: GuardOptions;
  /** Most sessions per HTTP transport. */
  maxSessions: number;
  /** Idle session TTL in ms. */
  sessionTtlMs: number;
  /** SSE keep-alive interval in ms. */
  keepAliveMs: number;
  /** Who may call; defaults to nobody checked. */
  authenticate?: Authenticator | undefined;
  /** Largest request body in bytes (default 4 MiB). */
  maxBodyBytes?: number | undefined;
  /** Requests per minute per principal (default unlimited). */
  rateLimitPerMinute?: number | undefined;
  /** Most concurrent SSE streams (default unlimited). */
  maxStreams?: number | undefined;
  /** Most MCP requests served at once, streams and long tool calls included (default 1000). */
  maxInFlight?: number | undefined;
  /** Most live sessions one caller may hold, per transport (default unbounded). */
  maxSessionsPerClient?: number | undefined;
  /** 2025-era sessions shared by a cluster's instances (in process when absent). */
  sharedSessions?: SharedSessions | undefined;
  /** Where session calls record their jobs (a cluster finishes them elsewhere if needed). */
  calls?: CallHandoff | undefined;
  /** How long a request body may take to arrive, in ms (default 30 s). */
  readTimeoutMs?: number | undefined;
  /** Admission control (made from `maxInFlight` when absent; tests pass their own). */
  admission?: Admission | undefined;
  /** Metrics registry (a private one is made when absent). */
  metrics?: Metrics | undefined;
  /** Serves OAuth protected-resource metadata for a path, when in OAuth mode. */
  wellKnown?: ((request: Request, path: string) => Response | undefined) | undefined;
  /** Serves fal's webhook deliveries at `/fal/webhook` (verified by fal's signature, not auth). */
  falWebhook?: ((request: Request) => Promise<Response>) | undefined;
  /**
   * Extra readiness facts (e.g. whether a fal key is configured). `not_ready` (a reason) makes
   * `/ready` answer 503.
   */
  readiness?: () =>
    | Record<string, unknown>
    | Promise<Record<string, unknown> & { not_ready?: string | undefined }>;
  /**
   * The studio at `/studio`: called with no principal for its page, and with the authenticated
   * caller for its API under `/studio/api/`.
   */
  studio?: ((request: Request, path: string, caller?: Principal) => Promise<Response>) | undefined;
  /** Serves 2026-07-28 `subscriptions/listen` on `/mcp`. */
  listen?: ListenHandler | undefined;
}

/** The HTTP app: a fetch handler plus lifecycle. */
export interface HttpApp {
  /** Serves one HTTP request. */
  fetch(request: Request): Promise<Response>;
  /** The Streamable HTTP leg (for stats). */
  readonly streamable: StreamableHttpHandler;
  /** The legacy SSE leg (for stats). */
  readonly sse: LegacySseHandler;
  /** The metrics registry. */
  readonly metrics: Metrics;
  /** Number of SSE streams open now. */
  readonly openStreams: number;
  /** Number of requests being served now. */
  readonly inFlight: number;
  /** Stops taking new MCP requests (503) and reports not ready; in-flight ones go on. */
  drain(): void;
  /** Closes every session and stream. */
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** A Host header as RFC 9110 allows it: a name or IP literal and an optional port, nothing else. */
const HOST_HEADER = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(?::\d{1,5})?$/;
const MCP_PATHS = new Set(["/mcp", "/sse", "/messages", "/messages/"]);

function json(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

function transportOf(path: string): string {
  return path === "/mcp" ? "streamable_http" : MCP_PATHS.has(path) ? "sse" : "other";
}

/** Whether a request opens a long-lived server → client stream. */
function opensStream(request: Request, path: string): boolean {
  return request.method === "GET" && (path === "/sse" || path === "/mcp");
}

/** Builds the HTTP app. */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { logger } = options;
  const metrics = options.metrics ?? new Metrics();
  const guard = createRequestGuard(options.guard);
  const authenticate = options.authenticate ??
    createAuthenticator({ tokens: new BearerTokens([]), byok: false, resourceUrl: "" });
  const limiter = new RateLimiter(options.rateLimitPerMinute ?? 0);
  const maxStreams = options.maxStreams ?? Number.POSITIVE_INFINITY;
  const streamable = createStreamableHttpHandler({
    factory: options.factory,
    logger,
    maxSessions: options.maxSessions,
    sessionTtlMs: options.sessionTtlMs,
    keepAliveMs: options.keepAliveMs,
    maxBodyBytes: options.maxBodyBytes,
    listen: options.listen,
    maxSessionsPerClient: options.maxSessionsPerClient,
    readTimeoutMs: options.readTimeoutMs,
    shared: options.sharedSessions,
    calls: options.calls,
  });
  const sse = createLegacySseHandler({
    factory: options.factory,
    logger,
    maxSessions: options.maxSessions,
    keepAliveMs: options.keepAliveMs,
    maxBodyBytes: options.maxBodyBytes,
    maxSessionsPerClient: options.maxSessionsPerClient,
    readTimeoutMs: options.readTimeoutMs,
  });
  const admission = options.admission ??
    new Admission({ maxInFlight: options.maxInFlight ?? 1000 });
  let openStreams = 0;
  let inFlight = 0;
  let draining = false;

  metrics.gauge("fal_mcp_sessions", "Live MCP sessions by transport", () => [
    [{ transport: "streamable_http" }, streamable.sessionCount],
    [{ transport: "sse" }, sse.sessionCount],
  ]);
  metrics.gauge("fal_mcp_open_streams", "Open SSE streams", () => [[{}, openStreams]]);
  metrics.gauge("fal_mcp_in_flight_requests", "HTTP requests being served", () => [[{}, inFlight]]);

  async function route(request: Request, path: string, principal: Principal): Promise<Response> {
    switch (path) {
      case "/mcp":
        return await streamable.fetch(request, principal);
      case "/sse":
        return await sse.handleSse(request, principal);
      default:
        return await sse.handleMessages(request, principal);
    }
  }

  async function serveMcp(request: Request, path: string): Promise<[Response, Principal?]> {
    const refused = guard(request);
    if (refused) return [refused];
    if (request.method === "OPTIONS") return [preflightResponse(request)];
    if (draining) return [shuttingDown()];
    const principal = await authenticate(request);
    if (principal instanceof Response) return [withCors(request, principal)];
    const decision = limiter.take(principal.id);
    if (!decision.ok) {
      const limited = jsonRpcErrorResponse(
        429,
        JsonRpcCode.InternalError,
        `Too Many Requests: more than ${options.rateLimitPerMinute} requests per minute; ` +
          `retry in ${decision.retryAfterSeconds} s`,
        { "retry-after": String(decision.retryAfterSeconds) },
      );
      return [withCors(request, limited), principal];
    }
    if (opensStream(request, path) && openStreams >= maxStreams) {
      const full = jsonRpcErrorResponse(
        503,
        JsonRpcCode.InternalError,
        `Server busy: all ${maxStreams} streams are open; try again later`,
        { "retry-after": "5" },
      );
      return [withCors(request, full), principal];
    }
    return [withCors(request, await route(request, path, principal)), principal];
  }

  /** The studio: its page is static; its API sits behind the same guard, auth and limit as MCP. */
  async function serveStudio(request: Request, path: string): Promise<[Response, Principal?]> {
    const refused = guard(request);
    if (refused) return [refused];
    if (!path.startsWith("/studio/api/")) return [await options.studio!(request, path)];
    const principal = await authenticate(request);
    if (principal instanceof Response) return [principal];
    const decision = limiter.take(principal.id);
    if (!decision.ok) {
      return [
        Response.json({ error: { message: "Too Many Requests: slow down" } }, {
          status: 429,
          headers: { "retry-after": String(decision.retryAfterSeconds) },
        }),
        principal,
      ];
    }
    return [await options.studio!(request, path, principal), principal];
  }

  async function serve(request: Request, path: string): Promise<[Response, Principal?]> {
    if (path === "/fal/webhook" && options.falWebhook) return [await options.falWebhook(request)];
    if (path === "/health") {
      return [
        request.method === "GET" || request.method === "HEAD"
          ? json({ status: "ok" })
          : jsonRpcErrorResponse(405, JsonRpcCode.InvalidRequest, "Method Not Allowed", {
            allow: "GET, HEAD",
          }),
      ];
    }
    if ((path === "/ready" || path === "/metrics") && !["GET", "HEAD"].includes(request.method)) {
      return [
        jsonRpcErrorResponse(405, JsonRpcCode.InvalidRequest, "Method Not Allowed", {
          allow: "GET, HEAD",
        }),
      ];
    }
    if (path === "/ready") {
      const facts = await options.readiness?.() ?? {};
      const notReady = typeof facts.not_ready === "string";
      return [json({
        status: draining ? "draining" : notReady ? "not_ready" : "ready",
        version: VERSION,
        sessions: { streamable_http: streamable.sessionCount, sse: sse.sessionCount },
        streams: openStreams,
        ...facts,
      }, draining || notReady ? 503 : 200)];
    }
    if (path === "/metrics") {
      return [
        new Response(await metrics.render(), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        }),
      ];
    }
    const metadata = options.wellKnown?.(request, path);
    if (metadata) return [metadata];
    if (MCP_PATHS.has(path)) return await serveMcp(request, path);
    if (options.studio && (path === "/studio" || path.startsWith("/studio/"))) {
      return await serveStudio(request, path);
    }
    return [jsonRpcErrorResponse(
      404,
      JsonRpcCode.InvalidRequest,
      `Not Found: ${path} (MCP is served at /mcp, and legacy SSE at /sse)`,
    )];
  }

  return {
    streamable,
    sse,
    metrics,
    get openStreams() {
      return openStreams;
    },
    get inFlight() {
      return inFlight;
    },
    drain() {
      draining = true;
    },
    async fetch(request: Request): Promise<Response> {
      const started = performance.now();
      // The request URL is built from the Host header: a malformed one could change the path
      // (`Host: x/mcp?`) or not parse at all. Refuse it before anything reads the URL.
      const host = request.headers.get("host");
      if (host !== null && !HOST_HEADER.test(host)) {
        return jsonRpcErrorResponse(
          400,
          JsonRpcCode.InvalidRequest,
          "Bad Request: the Host header is malformed",
        );
      }
      let path: string;
      try {
        path = new URL(request.url).pathname;
      } catch {
        return jsonRpcErrorResponse(400, JsonRpcCode.InvalidRequest, "Bad Request: invalid URL");
      }
      const given = request.headers.get("x-request-id");
      const requestId = given && REQUEST_ID.test(given) ? given : crypto.randomUUID();
      inFlight++;
      let response: Response;
      let principal: Principal | undefined;
      const ticket = MCP_PATHS.has(path) && request.method !== "OPTIONS"
        ? admission.admit()
        : undefined;
      try {
        if (ticket && !ticket.ok) {
          response = ticket.response;
          metrics.inc("fal_mcp_admission_refused_total", "MCP requests refused with 503 (busy)");
        } else [response, principal] = await serve(request, path);
      } catch (error) {
        logger.error("request failed", { request_id: requestId, path, error });
        response = jsonRpcErrorResponse(500, JsonRpcCode.InternalError, "Internal server error");
      }
      try {
        response.headers.set("x-request-id", requestId);
      } catch {
        // immutable headers: the id is still in the log line
      }
      const isStream = response.headers.get("content-type")?.includes("text/event-stream") ?? false;
      if (isStream) openStreams++;
      return onResponseDone(response, () => {
        inFlight--;
        if (ticket?.ok) ticket.release();
        if (isStream) openStreams--;
        const seconds = (performance.now() - started) / 1000;
        const transport = transportOf(path);
        const status = statusLabel(response.status);
        const facts = rpcFactsOf(request);
        metrics.inc("fal_mcp_http_requests_total", "HTTP requests by transport, method, status", {
          transport,
          method: methodLabel(request.method),
          status,
        });
        metrics.observe(
          "fal_mcp_http_request_duration_seconds",
          "HTTP request duration (to the end of the body) by transport",
          { transport },
          seconds,
        );
        if (path === "/health" || path === "/metrics") return;
        logger.info("request", {
          request_id: requestId,
          principal: principal?.id,
          http_method: request.method,
          path,
          status: response.status,
          rpc_method: facts.method,
          tool: facts.tool,
          duration_ms: Math.round(seconds * 1000),
        });
      });
    },
    async close() {
      await Promise.allSettled([streamable.close(), sse.close()]);
    },
  };
}
