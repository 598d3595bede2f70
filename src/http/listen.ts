/**
 * Listening that survives running out of file descriptors. `Deno.serve` stops its accept loop
 * and rejects `finished` when `accept()` fails (EMFILE under a burst of connections); left
 * alone, that rejection is uncaught and ends the process, resetting every open call. Here the
 * failure is logged and the server listens again on the same address after a short back-off,
 * while connections already accepted go on being served.
 *
 * @module
 */

import type { Logger } from "../log.ts";

/** Options for {@linkcode listenResilient}. */
export interface ListenOptions {
  /** Bind address. */
  hostname: string;
  /** Port (0 picks a free one, kept for every later re-listen). */
  port: number;
  /** Logger for failures. */
  logger: Logger;
  /** First back-off before listening again (ms; doubled up to 2 s). Default 100. */
  retryMs?: number;
}

/** A listening HTTP server. */
export interface ResilientServer {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** How many times the accept loop failed and was restarted. */
  readonly restarts: number;
  /** Stops listening and waits (bounded by the caller) for open connections to end. */
  shutdown(): Promise<void>;
}

/** Serves `handler` on `hostname:port`, listening again whenever the accept loop fails. */
export async function listenResilient(
  options: ListenOptions,
  handler: (request: Request) => Response | Promise<Response>,
): Promise<ResilientServer> {
  const { logger } = options;
  const firstRetry = options.retryMs ?? 100;
  let stopped = false;
  let restarts = 0;
  let current: Deno.HttpServer | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const listening = Promise.withResolvers<Deno.NetAddr>();
  let port = options.port;

  const onError = (error: unknown): Response => {
    logger.error("unhandled HTTP error", { error });
    return new Response("Internal server error", { status: 500 });
  };

  const start = (delayMs: number): void => {
    if (stopped) return;
    let server: Deno.HttpServer;
    try {
      server = Deno.serve({
        hostname: options.hostname,
        port,
        onListen: (addr) => {
          port = addr.port;
          listening.resolve(addr);
        },
        onError,
      }, handler);
    } catch (error) {
      if (restarts === 0 && current === undefined) {
        listening.reject(error);
        return;
      }
      // Still out of descriptors (or the port is briefly taken): try again a little later.
      logger.warn("listening again failed; retrying", { error, retry_ms: delayMs });
      timer = setTimeout(() => start(Math.min(2000, delayMs * 2)), delayMs);
      return;
    }
    current = server;
    server.finished.catch((error: unknown) => {
      if (stopped) return;
      restarts++;
      logger.error("the HTTP accept loop failed; listening again", {
        error,
        retry_ms: firstRetry,
      });
      timer = setTimeout(() => start(firstRetry * 2), firstRetry);
    });
  };

  start(firstRetry);
  const addr = await listening.promise;
  return {
    addr,
    get restarts() {
      return restarts;
    },
    async shutdown() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await current?.shutdown().catch(() => {});
    },
  };
}
