/**
 * fal's platform API for costs (`api.fal.ai/v1`): unit prices per endpoint, cost estimates and
 * the account's usage. Every call goes through {@linkcode FalClient.request}, so auth, retries
 * and error messages follow the same rules as the rest of the client. All three need the key.
 *
 * @example Price two endpoints
 * ```ts
 * import { FalClient } from "./client.ts";
 * import { resolveFalHosts } from "./hosts.ts";
 * import { fetchPricing } from "./platform.ts";
 *
 * const fal = new FalClient({ hosts: resolveFalHosts(), key: Deno.env.get("FAL_KEY") });
 * const prices = await fetchPricing(fal, ["fal-ai/flux/dev", "fal-ai/flux/schnell"]);
 * ```
 *
 * @module
 */

import type { FalClient } from "./client.ts";
import { FalApiError } from "./errors.ts";
import { isRecord } from "../is_record.ts";

/** The most endpoint ids fal accepts in one pricing call. */
export const MAX_PRICING_IDS = 50;

/** How many usage pages {@linkcode fetchUsage} reads at most by default. */
export const MAX_USAGE_PAGES = 20;

/** How many pricing pages one batch may span (fal pages at 50; one page is the norm). */
const MAX_PRICING_PAGES = 10;

/** The unit price of one endpoint, as `GET /v1/models/pricing` answers it. */
export interface EndpointPrice {
  /** Full endpoint id, e.g. `fal-ai/flux/dev`. */
  endpoint_id: string;
  /** Price of one unit. */
  unit_price: number;
  /** Billing unit, e.g. `image`, `second`, `megapixels`. */
  unit: string;
  /** ISO 4217 currency code, e.g. `USD`. */
  currency: string;
}

/**
 * How an estimate counts: `calls` uses fal's historical average cost per call
 * (`historical_api_price` with `call_quantity`); `units` multiplies the unit price by a number of
 * billing units (`unit_price` with `unit_quantity`).
 */
export type EstimateBasis = "calls" | "units";

/** What `POST /v1/models/pricing/estimate` answers. */
export interface CostEstimate {
  /** The estimate type fal used. */
  estimate_type: "historical_api_price" | "unit_price";
  /** Total estimated cost. */
  total_cost: number;
  /** ISO 4217 currency code. */
  currency: string;
}

/** One usage line: how much of one endpoint was used, in its billing unit. */
export interface UsageLine {
  /** Full endpoint id. */
  endpoint_id: string;
  /** Billing unit. */
  unit: string;
  /** Units used. */
  quantity: number;
  /** Price of one unit. */
  unit_price: number;
  /** Currency, when fal states it (fal bills in USD). */
  currency?: string | undefined;
}

/** Query of {@linkcode fetchUsage}. */
export interface UsageQuery {
  /** Start of the window (ISO 8601), inclusive. */
  start: string;
  /** End of the window (ISO 8601), exclusive; fal's default is now. */
  end?: string | undefined;
  /** Only these endpoints (at most 50). */
  endpointIds?: readonly string[] | undefined;
  /** Pages to read at most (default {@linkcode MAX_USAGE_PAGES}). */
  maxPages?: number | undefined;
}

/** What {@linkcode fetchUsage} gathered. */
export interface UsageReport {
  /** One line per endpoint, unit, unit price and currency over the whole window. */
  lines: UsageLine[];
  /** Pages read. */
  pages: number;
  /** Whether fal had more pages than were read (the lines may be incomplete). */
  truncated: boolean;
}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function unexpected(what: string, body: unknown): FalApiError {
  return new FalApiError(`${what}: fal answered 200 with an unexpected body`, {
    falStatus: 200,
    body,
  });
}

function pageCursor(body: Record<string, unknown>): string | undefined {
  const cursor = body.next_cursor;
  return body.has_more === true && typeof cursor === "string" && cursor !== "" ? cursor : undefined;
}

function parsePrice(item: unknown): EndpointPrice | undefined {
  if (!isRecord(item)) return undefined;
  const { endpoint_id, unit_price, unit, currency } = item;
  if (typeof endpoint_id !== "string" || !isNumber(unit_price)) return undefined;
  return {
    endpoint_id,
    unit_price,
    unit: typeof unit === "string" ? unit : "unit",
    currency: typeof currency === "string" ? currency : "USD",
  };
}

/**
 * Reads the unit price of each endpoint (full ids; fal answers 404 for an app-level id such as
 * `fal-ai/kling-video`, or when any id of a batch is unknown). Ids are sent in batches of
 * {@linkcode MAX_PRICING_IDS}, following `next_cursor` within each batch.
 */
export async function fetchPricing(
  fal: FalClient,
  endpointIds: readonly string[],
  signal?: AbortSignal,
): Promise<EndpointPrice[]> {
  const ids = [...new Set(endpointIds)];
  const prices: EndpointPrice[] = [];
  for (let at = 0; at < ids.length; at += MAX_PRICING_IDS) {
    const batch = ids.slice(at, at + MAX_PRICING_IDS);
    const what = `Cannot read fal pricing for ${batch.join(", ")}`;
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PRICING_PAGES; page++) {
      const params = new URLSearchParams();
      for (const id of batch) params.append("endpoint_id", id);
      if (cursor) params.set("cursor", cursor);
      const body = await fal.request({
        method: "GET",
        url: `${fal.hosts.api}/v1/models/pricing?${params}`,
        what,
        retry: "read",
        auth: "required",
        signal,
      });
      if (!isRecord(body) || !Array.isArray(body.prices)) throw unexpected(what, body);
      for (const item of body.prices) {
        const price = parsePrice(item);
        if (price) prices.push(price);
      }
      cursor = pageCursor(body);
      if (!cursor) break;
    }
  }
  return prices;
}

/**
 * Asks fal what `quantity` calls (basis `calls`) or billing units (basis `units`) of an endpoint
 * would cost. Nothing runs and nothing is billed.
 */
export async function estimateCost(
  fal: FalClient,
  endpointId: string,
  quantity: number,
  basis: EstimateBasis,
  signal?: AbortSignal,
): Promise<CostEstimate> {
  const estimateType = basis === "calls" ? "historical_api_price" : "unit_price";
  const field = basis === "calls" ? "call_quantity" : "unit_quantity";
  const what = `Cannot estimate the cost of ${endpointId}`;
  const body = await fal.request({
    method: "POST",
    url: `${fal.hosts.api}/v1/models/pricing/estimate`,
    what,
    // An estimate changes nothing on fal's side, so it is as safe to resend as a read.
    retry: "read",
    auth: "required",
    body: { estimate_type: estimateType, endpoints: { [endpointId]: { [field]: quantity } } },
    signal,
  });
  if (!isRecord(body) || !isNumber(body.total_cost)) throw unexpected(what, body);
  const type = body.estimate_type;
  return {
    estimate_type: type === "unit_price" || type === "historical_api_price" ? type : estimateType,
    total_cost: body.total_cost,
    currency: typeof body.currency === "string" ? body.currency : "USD",
  };
}

function parseUsageLine(item: unknown): UsageLine | undefined {
  if (!isRecord(item)) return undefined;
  const { endpoint_id, unit, quantity, unit_price, currency } = item;
  if (typeof endpoint_id !== "string" || !isNumber(quantity) || !isNumber(unit_price)) {
    return undefined;
  }
  return {
    endpoint_id,
    unit: typeof unit === "string" ? unit : "unit",
    quantity,
    unit_price,
    currency: typeof currency === "string" ? currency : undefined,
  };
}

const lineKey = (line: UsageLine) =>
  JSON.stringify([line.endpoint_id, line.unit, line.unit_price, line.currency ?? null]);

/**
 * Reads the account's usage between `start` and `end`, one line per endpoint (and unit price),
 * with `expand=summary`. fal documents the summary as covering the whole window, so a line seen
 * on an earlier page is not counted again; a page without a summary is aggregated from its
 * `time_series` buckets instead. Pages are followed up to `maxPages`.
 */
export async function fetchUsage(
  fal: FalClient,
  query: UsageQuery,
  signal?: AbortSignal,
): Promise<UsageReport> {
  const maxPages = Math.max(1, query.maxPages ?? MAX_USAGE_PAGES);
  const what = "Cannot read fal usage";
  const fromSummary = new Map<string, UsageLine>();
  const fromSeries = new Map<string, UsageLine>();
  let cursor: string | undefined;
  let pages = 0;
  do {
    const params = new URLSearchParams({ start: query.start });
    if (query.end) params.set("end", query.end);
    for (const id of query.endpointIds ?? []) params.append("endpoint_id", id);
    params.set("expand", "summary");
    // Exactly the window asked for, not widened to whole days.
    params.set("bound_to_timeframe", "false");
    if (cursor) params.set("cursor", cursor);
    let body: unknown;
    try {
      body = await fal.request({
        method: "GET",
        url: `${fal.hosts.api}/v1/models/usage?${params}`,
        what,
        retry: "read",
        auth: "required",
        signal,
      });
    } catch (error) {
      if (error instanceof FalApiError && error.falStatus === 403) {
        throw new FalApiError(
          `${what}: fal answered 403: fal's usage API needs an Admin-scope API key, and this key ` +
            "is not one (keys have the API scope by default). Create a key with the Admin scope " +
            "at https://fal.ai/dashboard/keys and use it as FAL_KEY (with bring-your-own-key, " +
            "send that key), or read usage in the dashboard at https://fal.ai/dashboard/usage.",
          { falStatus: 403, body: error.body, cause: error },
        );
      }
      throw error;
    }
    if (!isRecord(body)) throw unexpected(what, body);
    pages++;
    if (Array.isArray(body.summary)) {
      for (const item of body.summary) {
        const line = parseUsageLine(item);
        if (line && !fromSummary.has(lineKey(line))) fromSummary.set(lineKey(line), line);
      }
    } else if (Array.isArray(body.time_series)) {
      for (const bucket of body.time_series) {
        const results = isRecord(bucket) && Array.isArray(bucket.results) ? bucket.results : [];
        for (const item of results) {
          const line = parseUsageLine(item);
          if (!line) continue;
          const known = fromSeries.get(lineKey(line));
          if (known) known.quantity += line.quantity;
          else fromSeries.set(lineKey(line), { ...line });
        }
      }
    } else {
      throw unexpected(what, body);
    }
    cursor = pageCursor(body);
  } while (cursor && pages < maxPages);
  const lines = fromSummary.size > 0 || fromSeries.size === 0
    ? [...fromSummary.values()]
    : [...fromSeries.values()];
  return { lines, pages, truncated: cursor !== undefined };
}

/**
 * Writes an amount of money without float noise (`0.1 + 0.2` → `0.3`), keeping sub-cent prices
 * such as `0.00111`: `formatAmount(0.05, "USD")` → `"0.05 USD"`.
 */
export function formatAmount(amount: number, currency: string): string {
  return `${roundAmount(amount)} ${currency}`;
}

/** Rounds an amount to 8 decimal places, which removes float noise from sums and products. */
export function roundAmount(amount: number): number {
  return Math.round(amount * 1e8) / 1e8;
}
