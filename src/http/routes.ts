/**
 * The route table: which handler answers which path, in the style of std's `route`. A route
 * names an exact path or a subtree (`/studio` and everything under `/studio/`), and optionally
 * the methods it serves; another method gets 405 with `Allow`. Exact paths are found in one map
 * lookup, subtrees are tried in table order, and a request no route matches goes to the fallback.
 *
 * @example
 * ```ts
 * import { route } from "./routes.ts";
 * import { newRequestContext } from "./chain.ts";
 *
 * const app = route([
 *   { path: "/health", methods: ["GET", "HEAD"], handler: () => Response.json({ ok: true }) },
 *   { path: "/files", subtree: true, handler: (ctx) => new Response(ctx.path) },
 * ], () => new Response("Not Found", { status: 404 }));
 * const request = new Request("http://127.0.0.1/files/a.txt");
 * await (await app(newRequestContext(request, "/files/a.txt", "id-1"))).text(); // "/files/a.txt"
 * ```
 *
 * @module
 */

import { JsonRpcCode } from "../errors.ts";
import { jsonRpcErrorResponse } from "../protocol/jsonrpc_error.ts";
import type { Handler } from "./chain.ts";

/** One row of the route table. */
export interface Route {
  /** The path served (no trailing slash for a subtree: `/studio`). */
  path: string;
  /** Serve `path` and every path under `path/` too. Default false (exact path only). */
  subtree?: boolean;
  /** Methods served; another method answers 405 with `Allow`. Default: every method. */
  methods?: readonly string[];
  /** Answers the request (usually a check chain in front of the endpoint). */
  handler: Handler;
}

function withMethods(route: Route): Handler {
  const methods = route.methods;
  if (!methods) return route.handler;
  const allow = methods.join(", ");
  return (ctx) =>
    methods.includes(ctx.request.method)
      ? route.handler(ctx)
      : jsonRpcErrorResponse(405, JsonRpcCode.InvalidRequest, "Method Not Allowed", { allow });
}

/**
 * One handler serving `routes`: an exact row for the path, else the first subtree (in table order)
 * holding it, else `fallback`.
 *
 * @throws {Error} when two exact rows name the same path.
 */
export function route(routes: readonly Route[], fallback: Handler): Handler {
  const exact = new Map<string, Handler>();
  const subtrees: Array<{ path: string; handler: Handler }> = [];
  for (const row of routes) {
    const handler = withMethods(row);
    if (row.subtree) {
      subtrees.push({ path: row.path, handler });
      continue;
    }
    if (exact.has(row.path)) throw new Error(`Route table: ${row.path} is listed twice`);
    exact.set(row.path, handler);
  }
  return (ctx) => {
    const handler = exact.get(ctx.path);
    if (handler) return handler(ctx);
    for (const tree of subtrees) {
      if (ctx.path === tree.path || ctx.path.startsWith(`${tree.path}/`)) return tree.handler(ctx);
    }
    return fallback(ctx);
  };
}
