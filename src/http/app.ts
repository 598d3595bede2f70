/**
 * The HTTP application: one `(Request) => Promise<Response>` made of a route table
 * (`routes.ts`) whose MCP rows — `/mcp` (Streamable HTTP), `/sse` and `/messages/` (legacy
 * HTTP+SSE) — sit behind one ordered chain of checks (`chain.ts`, `checks.ts`): guard
 * (Host/Origin) → CORS → auth → limits (draining, rate limit, stream cap, admission). The other
 * rows are `/health`, `/ready`, `/metrics`, the OAuth protected-resource metadata, fal's webhook
 * and the studio. Each concern lives in its own module; this file only lays out the table and
 * the chain, logs one line per request and counts it.
 *
 * @module
 */

import type { CallHandoff } from "../call_handoff.ts";
import type { SharedSessions } from "../transports/shared_sessions.ts";
import { JsonRpcCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import type { Principal } from "../principal.ts";
import { jsonRpcErrorResponse } from "../protocol/jsonrpc_error.ts";
import { rpcFactsOf } from "../protocol/request_info.ts";
import type { ListenHandler } from "../transports/listen.ts";
import { createLegacySseHandler, type LegacySseHandler } from "../transports/sse.ts";
import type { ServerFactory } from "../transports/server_factory.ts";
import {
  createStreamableHttpHandler,
  type StreamableHttpHandler,
} from "../transports/streamable_http.ts";
import { onResponseDone } from "../transports/track_body.ts";
import { VERSION } from "../version.ts";
import { Admission } from "./admission.ts";
import { type Authenticator, createAuthenticator } from "./authenticate.ts";
import { BearerTokens } from "./bearer_tokens.ts";
import { chain, type Handler, newRequestContext, type RequestContext } from "./chain.ts";
import {
  authCheck,
  corsCheck,
  guardCheck,
  limitsCheck,
  principalOf,
  studioRateCheck,
} from "./checks.ts";
import { createRequestGuard, type GuardOptions } from "./dns_rebinding.ts";
import { methodLabel, statusLabel } from "./metric_labels.ts";
import type { OAuthMetadataRoute } from "./oauth_metadata.ts";
import { RateLimiter } from "./rate_limit.ts";
import { type Route, route } from "./routes.ts";

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
  /** The OAuth protected-resource metadata (RFC 9728) and the paths it is served at (OAuth mode). */
  oauthMetadata?: OAuthMetadataRoute | undefined;
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
const GET_HEAD = ["GET", "HEAD"];

function json(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

function transportOf(path: string): string {
  if (path === "/mcp") return "streamable_http";
  return path === "/sse" || path === "/messages" || path === "/messages/" ? "sse" : "other";
}

function notFound(ctx: RequestContext): Response {
  return jsonRpcErrorResponse(
    404,
    JsonRpcCode.InvalidRequest,
    `Not Found: ${ctx.path} (MCP is served at /mcp, and legacy SSE at /sse)`,
  );
}

/** Builds the HTTP app. */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { logger } = options;
  const metrics = options.metrics ?? new Metrics();
  const authenticate = options.authenticate ??
    createAuthenticator({ tokens: new BearerTokens([]), byok: false, resourceUrl: "" });
  const limiter = new RateLimiter(options.rateLimitPerMinute ?? 0);
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
  let openStreams = 0;
  let inFlight = 0;
  let draining = false;

  metrics.gauge("fal_mcp_sessions", "Live MCP sessions by transport", () => [
    [{ transport: "streamable_http" }, streamable.sessionCount],
    [{ transport: "sse" }, sse.sessionCount],
  ]);
  metrics.gauge("fal_mcp_open_streams", "Open SSE streams", () => [[{}, openStreams]]);
  metrics.gauge("fal_mcp_in_flight_requests", "HTTP requests being served", () => [[{}, inFlight]]);

  // The one ordered chain in front of every MCP endpoint: guard → CORS → auth → limits.
  const guard = guardCheck(createRequestGuard(options.guard));
  const auth = authCheck(authenticate);
  const mcpChecks = [
    guard,
    corsCheck(),
    auth,
    limitsCheck({
      draining: () => draining,
      limiter,
      perMinute: options.rateLimitPerMinute,
      maxStreams: options.maxStreams ?? Number.POSITIVE_INFINITY,
      openStreams: () => openStreams,
      admission: options.admission ??
        new Admission({ maxInFlight: options.maxInFlight ?? 1000 }),
      metrics,
    }),
  ];
  const mcp = (handler: Handler) => chain(mcpChecks, handler);
  const sseMessages = mcp((ctx) => sse.handleMessages(ctx.request, principalOf(ctx)));

  async function ready(): Promise<Response> {
    const facts = await options.readiness?.() ?? {};
    const notReady = typeof facts.not_ready === "string";
    return json({
      status: draining ? "draining" : notReady ? "not_ready" : "ready",
      version: VERSION,
      sessions: { streamable_http: streamable.sessionCount, sse: sse.sessionCount },
      streams: openStreams,
      ...facts,
    }, draining || notReady ? 503 : 200);
  }

  const studio = options.studio;
  const routes: Route[] = [
    { path: "/health", methods: GET_HEAD, handler: () => json({ status: "ok" }) },
    { path: "/ready", methods: GET_HEAD, handler: ready },
    {
      path: "/metrics",
      methods: GET_HEAD,
      handler: async () =>
        new Response(await metrics.render(), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        }),
    },
    ...(options.falWebhook
      ? [{ path: "/fal/webhook", handler: falWebhookRoute(options.falWebhook) }]
      : []),
    ...(options.oauthMetadata?.paths ?? []).map((path) => ({
      path,
      handler: (ctx: RequestContext) => options.oauthMetadata!.serve(ctx.request),
    })),
    { path: "/mcp", handler: mcp((ctx) => streamable.fetch(ctx.request, principalOf(ctx))) },
    { path: "/sse", handler: mcp((ctx) => sse.handleSse(ctx.request, principalOf(ctx))) },
    { path: "/messages", handler: sseMessages },
    { path: "/messages/", handler: sseMessages },
    ...(studio
      ? [
        {
          // The studio's API sits behind the same guard, auth and rate limit as MCP.
          path: "/studio/api",
          subtree: true,
          handler: chain(
            [guard, auth, studioRateCheck(limiter)],
            (ctx) => studio(ctx.request, ctx.path, principalOf(ctx)),
          ),
        },
        {
          path: "/studio",
          subtree: true,
          handler: chain([guard], (ctx) => studio(ctx.request, ctx.path)),
        },
      ]
      : []),
  ];
  const serve = route(routes, notFound);

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
      const ctx = newRequestContext(request, path, requestId);
      inFlight++;
      let response: Response;
      try {
        response = await serve(ctx);
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
        ctx.end();
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
          principal: ctx.principal?.id,
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

/** fal's webhook deliveries: verified by fal's signature, so no chain of ours in front. */
function falWebhookRoute(serve: (request: Request) => Promise<Response>): Handler {
  return (ctx) => serve(ctx.request);
}
