/**
 * Settling write-ahead records: a `PENDING` record is a submit whose answer this server never
 * saw (it was killed while sending, or the network dropped). fal's listing of the endpoint's
 * recent requests tells whether fal accepted it: a request of the same endpoint, sent no
 * earlier than the record was written, with the same input, and not yet claimed by another
 * record, is that job.
 *
 * @module
 */

import type { FalClient } from "../fal/client.ts";
import { canonicalJson, listEndpointRequests } from "../fal/requests.ts";
import type { JobRecord } from "./types.ts";

/** Clock skew allowed between this machine and fal when comparing times. */
const SKEW_MS = 60_000;
/** Pages of fal's listing read per endpoint and round at most. */
const MAX_PAGES = 10;

/**
 * Matches pending records with fal's recent requests; answers `pending id → fal request id` for
 * the records that were found. `isKnown` tells whether a request id already has a record (it
 * cannot be claimed twice). Records of one endpoint are matched oldest first, each with the
 * earliest unclaimed request whose input is the same.
 */
export async function matchPending(
  fal: FalClient,
  pending: readonly JobRecord[],
  isKnown: (requestId: string) => Promise<boolean>,
  signal?: AbortSignal,
): Promise<Map<string, string>> {
  const matches = new Map<string, string>();
  const byEndpoint = Map.groupBy(pending, (record) => record.endpointId);
  for (const [endpointId, records] of byEndpoint) {
    records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const earliest = Date.parse(records[0]!.createdAt);
    const candidates: { id: string; sentAt: number; input: string }[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await listEndpointRequests(fal, {
        endpointId,
        start: new Date(earliest - SKEW_MS).toISOString(),
        cursor,
      }, signal);
      for (const item of answer.items) {
        if (item.json_input === undefined) continue;
        const sentAt = item.sent_at ? Date.parse(item.sent_at) : Number.NaN;
        candidates.push({ id: item.request_id, sentAt, input: canonicalJson(item.json_input) });
      }
      if (!answer.has_more || !answer.next_cursor) break;
      cursor = answer.next_cursor;
    }
    candidates.sort((a, b) => (a.sentAt || 0) - (b.sentAt || 0));
    const claimed = new Set<string>();
    for (const record of records) {
      const input = canonicalJson(record.input);
      const written = Date.parse(record.createdAt);
      for (const candidate of candidates) {
        if (claimed.has(candidate.id) || candidate.input !== input) continue;
        if (!Number.isNaN(candidate.sentAt) && candidate.sentAt < written - SKEW_MS) continue;
        if (await isKnown(candidate.id)) {
          claimed.add(candidate.id);
          continue;
        }
        claimed.add(candidate.id);
        matches.set(record.id, candidate.id);
        break;
      }
    }
  }
  return matches;
}

/**
 * The text of a record that could not be settled: what is known and where to look.
 * `listingError` says why fal's listing could not be read, when it could not.
 */
export function unknownOutcome(record: JobRecord, windowMs: number, listingError?: string): string {
  const looked = listingError === undefined
    ? `fal's request listing showed no matching request within ` +
      `${Math.round(windowMs / 60_000)} minutes, so fal probably never accepted it`
    : `fal's request listing could not be read (${listingError}), so whether fal accepted it ` +
      "is not known";
  return `The submit to ${record.endpointId} at ${record.createdAt} was interrupted before fal ` +
    `answered, and ${looked}. If it did, find it at https://fal.ai/dashboard/requests: endpoint ` +
    `${record.endpointId}, sent around ${record.createdAt}, with the input kept in this record.`;
}
