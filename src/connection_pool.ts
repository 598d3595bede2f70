/**
 * The connections the server keeps to fal (queue, REST, storage and media hosts): one pool for
 * the whole process, whatever the number of keys. By default `fetch` keeps every idle
 * connection for 90 s, so a burst of hundreds of tool calls would leave hundreds of idle sockets
 * holding file descriptors long after it ended, and admission would keep refusing callers. Here
 * at most {@linkcode MAX_IDLE_PER_HOST} idle connections per host are kept, each for at most
 * {@linkcode IDLE_TIMEOUT_MS}.
 *
 * @example Fetch through the shared pool
 * ```ts ignore
 * import { falFetch } from "./connection_pool.ts";
 * const response = await falFetch("https://queue.fal.run/fal-ai/flux/dev/requests/abc/status");
 * ```
 *
 * @module
 */

/** Idle connections kept per host. */
export const MAX_IDLE_PER_HOST = 16;
/** How long an idle connection is kept (ms). */
export const IDLE_TIMEOUT_MS = 15_000;

let client: Deno.HttpClient | undefined;

function pool(): Deno.HttpClient {
  client ??= Deno.createHttpClient({
    poolMaxIdlePerHost: MAX_IDLE_PER_HOST,
    poolIdleTimeout: IDLE_TIMEOUT_MS,
  });
  return client;
}

/** `fetch` through the process's bounded pool of connections to fal. */
export const falFetch: typeof fetch = (input, init) => fetch(input, { ...init, client: pool() });
