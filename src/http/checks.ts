/**
 * The steps of the check chain in front of the MCP endpoints, in their order:
 *
 * 1. **guard**: Host and Origin against DNS rebinding (403); answers before anything else runs.
 * 2. **CORS**: answers preflights (204) and adds CORS headers to whatever comes back.
 * 3. **auth**: decides the caller's {@linkcode Principal} once (401/403 otherwise) and puts it on
 *    the request context, where the endpoints read it and hand it to the factory and the tools.
 * 4. **limits**: refuses while draining (503), past the caller's rate (429), past the stream cap
 *    (503) and when no request slot is free (admission, 503); a slot is held until the response
 *    body ends.
 *
 * The studio's API uses the guard, auth and its own rate-limit answer.
 *
 * @module
 */

import { JsonRpcCode } from "../errors.ts";
import type { Metrics } from "../metrics.ts";
import type { Principal } from "../principal.ts";
import { jsonRpcErrorResponse } from "../protocol/jsonrpc_error.ts";
import { shuttingDown } from "../transports/refusals.ts";
import type { Admission } from "./admission.ts";
import type { Authenticator } from "./authenticate.ts";
import type { Check, RequestContext } from "./chain.ts";
import { preflightResponse, withCors } from "./cors.ts";
import type { RequestGuard } from "./dns_rebinding.ts";
import type { RateLimiter } from "./rate_limit.ts";

/** The principal the auth step set; the chains put auth before every handler that calls this. */
export function principalOf(ctx: RequestContext): Principal {
  if (!ctx.principal) throw new Error(`No principal for ${ctx.path}: the route has no auth step`);
  return ctx.principal;
}

/** Step 1: refuses a Host or Origin the guard does not allow. */
export function guardCheck(guard: RequestGuard): Check {
  return (ctx, next) => guard(ctx.request) ?? next();
}

/** Step 2: answers CORS preflights and adds CORS headers to every answer after this step. */
export function corsCheck(): Check {
  return async (ctx, next) => {
    if (ctx.request.method === "OPTIONS") return preflightResponse(ctx.request);
    return withCors(ctx.request, await next());
  };
}

/** Step 3: establishes the caller, or answers the authenticator's refusal. */
export function authCheck(authenticate: Authenticator): Check {
  return async (ctx, next) => {
    const principal = await authenticate(ctx.request);
    if (principal instanceof Response) return principal;
    ctx.principal = principal;
    return await next();
  };
}

/** What the limits step reads. */
export interface LimitsOptions {
  /** Whether the server is draining (no new MCP requests). */
  draining: () => boolean;
  /** Per-principal token buckets. */
  limiter: RateLimiter;
  /** The configured rate, for the 429 message. */
  perMinute: number | undefined;
  /** Most SSE streams open at once. */
  maxStreams: number;
  /** SSE streams open now. */
  openStreams: () => number;
  /** Request slots and the descriptor budget. */
  admission: Admission;
  /** Where refusals by admission are counted. */
  metrics: Metrics;
}

/** Whether a request opens a long-lived server → client stream. */
function opensStream(ctx: RequestContext): boolean {
  return ctx.request.method === "GET" && (ctx.path === "/sse" || ctx.path === "/mcp");
}

/** Step 4 of the MCP chain: draining, rate limit, stream cap, admission. */
export function limitsCheck(options: LimitsOptions): Check {
  const { limiter, admission, metrics } = options;
  return (ctx, next) => {
    if (options.draining()) return shuttingDown();
    const decision = limiter.take(principalOf(ctx).id);
    if (!decision.ok) {
      return jsonRpcErrorResponse(
        429,
        JsonRpcCode.InternalError,
        `Too Many Requests: more than ${options.perMinute} requests per minute; ` +
          `retry in ${decision.retryAfterSeconds} s`,
        { "retry-after": String(decision.retryAfterSeconds) },
      );
    }
    if (opensStream(ctx) && options.openStreams() >= options.maxStreams) {
      return jsonRpcErrorResponse(
        503,
        JsonRpcCode.InternalError,
        `Server busy: all ${options.maxStreams} streams are open; try again later`,
        { "retry-after": "5" },
      );
    }
    const ticket = admission.admit();
    if (!ticket.ok) {
      metrics.inc("fal_mcp_admission_refused_total", "MCP requests refused with 503 (busy)");
      return ticket.response;
    }
    ctx.atEnd(ticket.release);
    return next();
  };
}

/** The studio API's rate limit: its pages read `{error: {message}}`, not JSON-RPC. */
export function studioRateCheck(limiter: RateLimiter): Check {
  return (ctx, next) => {
    const decision = limiter.take(principalOf(ctx).id);
    if (decision.ok) return next();
    return Response.json({ error: { message: "Too Many Requests: slow down" } }, {
      status: 429,
      headers: { "retry-after": String(decision.retryAfterSeconds) },
    });
  };
}
