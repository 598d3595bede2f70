/**
 * One ordered chain of checks in front of a handler, in the onion style of hono's `compose`:
 * each check sees the request's {@linkcode RequestContext} and either answers itself (a refusal)
 * or calls `next()` and may adjust the response that comes back. The app puts the same four
 * steps in front of every MCP endpoint, in this order: guard (Host/Origin), CORS, authentication,
 * limits (see `checks.ts`).
 *
 * @example
 * ```ts
 * import { chain, type Check, newRequestContext } from "./chain.ts";
 *
 * const stamp: Check = async (_ctx, next) => {
 *   const response = await next();
 *   response.headers.set("x-checked", "yes");
 *   return response;
 * };
 * const handler = chain([stamp], () => new Response("hello"));
 * const request = new Request("http://127.0.0.1/");
 * const response = await handler(newRequestContext(request, "/", "id-1"));
 * response.headers.get("x-checked"); // "yes"
 * ```
 *
 * @module
 */

import type { Principal } from "../principal.ts";

/**
 * One HTTP request on its way through the app: what every check and handler sees. The
 * principal is set by the authentication step and is the value the transports, the factory and
 * the tools receive.
 */
export interface RequestContext {
  /** The request. */
  readonly request: Request;
  /** Its URL path. */
  readonly path: string;
  /** The id it is logged under (the caller's `X-Request-Id` when well-formed). */
  readonly requestId: string;
  /** The caller, once authentication decided it; undefined on routes without authentication. */
  principal: Principal | undefined;
  /** Runs `fn` once the response body has ended (sent, failed or abandoned). */
  atEnd(fn: () => void): void;
}

/** The callbacks a context collected with `atEnd`, and the context itself. */
export interface OwnedRequestContext extends RequestContext {
  /** Runs every `atEnd` callback (once). */
  end(): void;
}

/** Makes the context of a request entering the app. */
export function newRequestContext(
  request: Request,
  path: string,
  requestId: string,
): OwnedRequestContext {
  const ending: Array<() => void> = [];
  let ended = false;
  return {
    request,
    path,
    requestId,
    principal: undefined,
    atEnd: (fn) => void ending.push(fn),
    end: () => {
      if (ended) return;
      ended = true;
      for (const fn of ending) fn();
    },
  };
}

/** Answers a request. */
export type Handler = (ctx: RequestContext) => Response | Promise<Response>;

/** Runs the rest of the chain and answers its response. */
export type Next = () => Promise<Response>;

/** One step of a chain: refuse (answer without `next`), or pass on and return what comes back. */
export type Check = (ctx: RequestContext, next: Next) => Response | Promise<Response>;

/**
 * `checks` in order, then `handler`, as one handler.
 *
 * @throws {Error} (as a rejected promise) when a check calls `next()` twice.
 */
export function chain(checks: readonly Check[], handler: Handler): Handler {
  if (checks.length === 0) return handler;
  return (ctx) => {
    let reached = -1;
    const dispatch = (i: number): Promise<Response> => {
      if (i <= reached) {
        return Promise.reject(new Error(`check ${i - 1} of the chain called next() twice`));
      }
      reached = i;
      const check = checks[i];
      try {
        return Promise.resolve(check ? check(ctx, () => dispatch(i + 1)) : handler(ctx));
      } catch (error) {
        return Promise.reject(error);
      }
    };
    return dispatch(0);
  };
}
