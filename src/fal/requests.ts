/**
 * fal's platform listing of an endpoint's recent requests (`GET /v1/models/requests/by-endpoint`
 * on api.fal.ai), with their inputs. The job store uses it to settle records written ahead of a
 * submit whose answer never arrived (the process was killed, the network dropped): a request of
 * the same endpoint, sent at about the same time with the same input, is that job.
 *
 * @example
 * ```ts ignore
 * import { listEndpointRequests } from "./requests.ts";
 *
 * const page = await listEndpointRequests(fal, { endpointId: "fal-ai/flux/dev", start: "2026-01-01T00:00:00Z" });
 * for (const request of page.items) console.log(request.request_id, request.sent_at);
 * ```
 *
 * @module
 */

import type { FalClient } from "./client.ts";
import { FalApiError } from "./errors.ts";

/** One request of fal's listing. */
export interface FalRequestItem {
  /** fal's request id. */
  request_id: string;
  /** The endpoint it was sent to. */
  endpoint_id: string;
  /** When fal received it (ISO 8601), when known. */
  sent_at?: string | null;
  /** When a runner started it. */
  started_at?: string | null;
  /** When it ended. */
  ended_at?: string | null;
  /** The HTTP status it ended with. */
  status_code?: number | null;
  /** The input, with `expand=payloads`. */
  json_input?: unknown;
}

/** A page of fal's listing. */
export interface FalRequestsPage {
  /** The requests. */
  items: FalRequestItem[];
  /** Cursor of the next page, or null. */
  next_cursor: string | null;
  /** Whether more pages follow. */
  has_more: boolean;
}

/** What to list. */
export interface FalRequestsQuery {
  /** The full endpoint id. */
  endpointId: string;
  /** Earliest time (ISO 8601); fal's default is 24 hours ago. */
  start?: string | undefined;
  /** Page size (fal allows 1 to 100). */
  limit?: number | undefined;
  /** Cursor from a previous page. */
  cursor?: string | undefined;
}

/**
 * Reads one page of an endpoint's requests, with their inputs (`expand=payloads`).
 *
 * @throws {FalApiError} when fal refuses or answers something else than a listing.
 */
export async function listEndpointRequests(
  fal: FalClient,
  query: FalRequestsQuery,
  signal?: AbortSignal,
): Promise<FalRequestsPage> {
  const params = new URLSearchParams({ endpoint_id: query.endpointId, expand: "payloads" });
  if (query.start) params.set("start", query.start);
  params.set("limit", String(query.limit ?? 100));
  if (query.cursor) params.set("cursor", query.cursor);
  const what = `Cannot list the recent requests of ${query.endpointId}`;
  const body = await fal.request({
    method: "GET",
    url: `${fal.hosts.api}/v1/models/requests/by-endpoint?${params}`,
    what,
    retry: "read",
    auth: "required",
    signal,
  }) as Partial<FalRequestsPage> | undefined;
  if (!body || !Array.isArray(body.items)) {
    throw new FalApiError(`${what}: fal answered without a list of requests`, {
      falStatus: 200,
      body,
    });
  }
  const items = body.items.filter((item): item is FalRequestItem =>
    typeof item?.request_id === "string"
  );
  return {
    items,
    next_cursor: typeof body.next_cursor === "string" ? body.next_cursor : null,
    has_more: body.has_more === true,
  };
}

/** JSON text of a value with object keys sorted, so equal inputs compare equal as text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner) => {
    if (inner && typeof inner === "object" && !Array.isArray(inner)) {
      return Object.fromEntries(
        Object.keys(inner).sort().map((key) => [key, (inner as Record<string, unknown>)[key]]),
      );
    }
    return inner;
  }) ?? "null";
}
