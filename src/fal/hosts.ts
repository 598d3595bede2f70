/**
 * Where each fal API lives. Unset, the real fal hosts; with a base URL B, every API is a path on
 * that one origin (`B/queue`, `B/run`, `B/rest`, `B/api`), which is how tests and offline demos
 * point the server at the local fake.
 *
 * @module
 */

/** Base URLs (no trailing slash) of the four fal APIs. */
export interface FalHosts {
  /** The queue API (queue.fal.run). */
  queue: string;
  /** Synchronous runs (fal.run). */
  run: string;
  /** Storage uploads (rest.fal.ai). */
  rest: string;
  /** The platform API (api.fal.ai), without the `/v1` prefix. */
  api: string;
}

/** The real fal hosts. */
export const REAL_FAL_HOSTS: FalHosts = {
  queue: "https://queue.fal.run",
  run: "https://fal.run",
  rest: "https://rest.fal.ai",
  api: "https://api.fal.ai",
};

/** Resolves the fal hosts from an optional base URL. */
export function resolveFalHosts(baseUrl?: string): FalHosts {
  if (!baseUrl) return REAL_FAL_HOSTS;
  const base = baseUrl.replace(/\/+$/, "");
  return { queue: `${base}/queue`, run: `${base}/run`, rest: `${base}/rest`, api: `${base}/api` };
}
