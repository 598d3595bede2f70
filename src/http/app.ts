/**
 * The HTTP application: one `(Request) => Promise<Response>` that routes `/mcp` (Streamable
 * HTTP), `/sse` + `/messages/` (legacy HTTP+SSE), `/health` and `/ready`, behind the Host/Origin
 * guard. Each concern lives in its own module; this file only composes them.
 *
 * @module
 */

import { JsonRpcCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import { createLegacySseHandler, type LegacySseHandler } from "../transports/sse.ts";
import {
  createStreamableHttpHandler,
  type ServerFactory,
  type StreamableHttpHandler,
} from "../transports/streamable_http.ts";
import { VERSION } from "../version.ts";
import { preflightResponse, withCors } from "./cors.ts";
import { createRequestGuard, type GuardOptions } from "./dns_rebinding.ts";
import { jsonRpcErrorResponse } from "./jsonrpc_error.ts";

/** Options for {@linkcode createHttpApp}. */
export interface HttpAppOptions {
  /** The one server factory. */
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
  /** Extra readiness facts (e.g. whether a fal key is configured). */
  readiness?: () => Record<string, unknown>;
}

/** The HTTP app: a fetch handler plus lifecycle. */
export interface HttpApp {
  /** Serves one HTTP request. */
  fetch(request: Request): Promise<Response>;
  /** The Streamable HTTP leg (for stats). */
  readonly streamable: StreamableHttpHandler;
  /** The legacy SSE leg (for stats). */
  readonly sse: LegacySseHandler;
  /** Closes every session and stream. */
  close(): Promise<void>;
}

function json(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

/** Builds the HTTP app. */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { logger } = options;
  const guard = createRequestGuard(options.guard);
  const streamable = createStreamableHttpHandler({
    factory: options.factory,
    logger,
    maxSessions: options.maxSessions,
    sessionTtlMs: options.sessionTtlMs,
    keepAliveMs: options.keepAliveMs,
  });
  const sse = createLegacySseHandler({
    factory: options.factory,
    logger,
    maxSessions: options.maxSessions,
    keepAliveMs: options.keepAliveMs,
  });

  async function route(request: Request, path: string): Promise<Response> {
    switch (path) {
      case "/mcp":
        return await streamable.fetch(request);
      case "/sse":
        return await sse.handleSse(request);
      case "/messages":
      case "/messages/":
        return await sse.handleMessages(request);
      default:
        return jsonRpcErrorResponse(
          404,
          JsonRpcCode.InvalidRequest,
          `Not Found: ${path} (MCP is served at /mcp, and legacy SSE at /sse)`,
        );
    }
  }

  return {
    streamable,
    sse,
    async fetch(request: Request): Promise<Response> {
      const path = new URL(request.url).pathname;
      if (path === "/health") {
        return request.method === "GET" || request.method === "HEAD"
          ? json({ status: "ok" })
          : jsonRpcErrorResponse(405, JsonRpcCode.InvalidRequest, "Method Not Allowed", {
            allow: "GET, HEAD",
          });
      }
      if (path === "/ready") {
        return json({
          status: "ready",
          version: VERSION,
          sessions: { streamable_http: streamable.sessionCount, sse: sse.sessionCount },
          ...options.readiness?.(),
        });
      }
      const refused = guard(request);
      if (refused) return refused;
      if (request.method === "OPTIONS") return preflightResponse(request);
      try {
        return withCors(request, await route(request, path));
      } catch (error) {
        logger.error("request failed", { path, method: request.method, error });
        return jsonRpcErrorResponse(500, JsonRpcCode.InternalError, "Internal server error");
      }
    },
    async close() {
      await Promise.allSettled([streamable.close(), sse.close()]);
    },
  };
}
