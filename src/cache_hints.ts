/**
 * Cache hints (`ttlMs`, `cacheScope`) for the cacheable results of the 2026-07-28 revision: what
 * is the same for every caller and changes rarely (the tool, prompt and template listings, the
 * catalogue's model schemas) is public and long; what belongs to one caller (their job listing
 * and jobs) is private and short. 2025-era responses carry no cache fields.
 *
 * @module
 */

import type { CacheHint } from "@modelcontextprotocol/server";
import { isFinal, type JobRecord } from "./jobs/types.ts";

/** One hour: listings and schemas change with deployments, not per request. */
export const LONG_TTL_MS = 3_600_000;

/** Public and long: the same answer for every caller. */
export const PUBLIC_LONG: CacheHint = { ttlMs: LONG_TTL_MS, cacheScope: "public" };

/** The caller's job listing: private, and stale as soon as a job moves. */
export const JOB_LIST: CacheHint = { ttlMs: 2_000, cacheScope: "private" };

/** Per-operation hints for the server (results that carry none of their own). */
export const SERVER_CACHE_HINTS: Record<string, CacheHint> = {
  "tools/list": PUBLIC_LONG,
  "prompts/list": PUBLIC_LONG,
  "resources/templates/list": PUBLIC_LONG,
  "server/discover": PUBLIC_LONG,
  "resources/list": JOB_LIST,
  // Reads default to private and uncached; each resource sets its own hint.
  "resources/read": { ttlMs: 0, cacheScope: "private" },
};

/** A job read: private; a running job for a second, a finished one (it never changes) an hour. */
export function jobCacheHint(record: JobRecord): CacheHint {
  return { ttlMs: isFinal(record.status) ? LONG_TTL_MS : 1_000, cacheScope: "private" };
}
