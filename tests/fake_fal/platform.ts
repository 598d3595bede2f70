/**
 * The platform API of the fake (`{origin}/api` = api.fal.ai): model search with OpenAPI
 * expansion, pricing, cost estimates and usage, with fal's `{"error":{"type","message"}}` errors.
 *
 * @module
 */

import { authenticate, authMessage } from "./auth.ts";
import {
  CATALOGUE,
  type CatalogueModel,
  findModel,
  modelMetadata,
  openApiDocument,
} from "./catalogue.ts";
import { type FakeContext, sameAccount } from "./context.ts";
import { isObject, json, platformError, readJson } from "./http.ts";
import type { FakeJob } from "./state.ts";

/** Default page size of `GET /v1/models`. */
export const DEFAULT_MODELS_LIMIT = 20;
/** Largest page size; bigger `limit`s are clamped to it. */
export const MAX_LIMIT = 100;
const MAX_ENDPOINT_IDS = 50;
const EXPANSIONS = ["openapi-3.0", "enterprise_status"];
const USAGE_EXPANSIONS = ["time_series", "summary"];
const TIMEFRAMES = ["minute", "hour", "day", "week", "month"];

class PlatformFailure extends Error {
  constructor(readonly response: Response) {
    super("platform error");
  }
}

function fail(status: number, type: "validation_error" | "not_found", message: string): never {
  throw new PlatformFailure(platformError(status, type, message));
}

function listParam(params: URLSearchParams, name: string): string[] {
  return params.getAll(name).flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
}

function endpointIds(params: URLSearchParams): string[] {
  const ids = listParam(params, "endpoint_id");
  if (ids.length > MAX_ENDPOINT_IDS) {
    fail(400, "validation_error", `endpoint_id accepts at most ${MAX_ENDPOINT_IDS} values`);
  }
  return ids;
}

/** `limit` and `cursor` (base64 of a 1-based page number, like fal's `Mg==`). */
function paging(params: URLSearchParams, fallback: number): { limit: number; page: number } {
  const rawLimit = params.get("limit");
  let limit = fallback;
  if (rawLimit !== null) {
    if (!/^[0-9]+$/.test(rawLimit.trim()) || Number(rawLimit) < 1) {
      fail(400, "validation_error", "limit must be an integer greater than or equal to 1");
    }
    limit = Math.min(MAX_LIMIT, Number(rawLimit));
  }
  const rawCursor = params.get("cursor");
  let page = 1;
  if (rawCursor !== null && rawCursor !== "") {
    let decoded = "";
    try {
      decoded = atob(rawCursor);
    } catch {
      // reported below
    }
    if (!/^[1-9][0-9]*$/.test(decoded)) fail(400, "validation_error", "Invalid cursor");
    page = Number(decoded);
  }
  return { limit, page };
}

function paginate<T>(items: T[], limit: number, page: number) {
  const start = (page - 1) * limit;
  const slice = items.slice(start, start + limit);
  const hasMore = start + limit < items.length;
  return { slice, next_cursor: hasMore ? btoa(String(page + 1)) : null, has_more: hasMore };
}

function matchesQuery(model: CatalogueModel, query: string): boolean {
  const m = model.metadata;
  const haystack = [
    model.endpointId,
    m.display_name,
    m.description,
    m.category,
    m.category.replaceAll("-", " "),
    ...m.tags,
  ].join("\n").toLowerCase();
  return query.toLowerCase().split(/\s+/).filter(Boolean).every((word) => haystack.includes(word));
}

function listModels(ctx: FakeContext, url: URL): Response {
  const params = url.searchParams;
  const ids = endpointIds(params);
  const { limit, page } = paging(params, DEFAULT_MODELS_LIMIT);
  const status = params.get("status");
  if (status !== null && status !== "active" && status !== "deprecated") {
    fail(400, "validation_error", "status must be one of: active, deprecated");
  }
  const expand = listParam(params, "expand");
  const unknown = expand.find((value) => !EXPANSIONS.includes(value));
  if (unknown !== undefined) {
    fail(
      400,
      "validation_error",
      `Unsupported expand value '${unknown}'; supported: ${EXPANSIONS}`,
    );
  }
  const query = params.get("q")?.trim() ?? "";
  const category = params.get("category")?.trim().toLowerCase() ?? "";
  let models: CatalogueModel[] = ids.length > 0
    ? ids.map((id) => findModel(id)).filter((m): m is CatalogueModel => m !== undefined)
    : [...CATALOGUE];
  models = models.filter((model) =>
    (query === "" || matchesQuery(model, query)) &&
    (category === "" || model.metadata.category === category) &&
    (status === null || model.metadata.status === status)
  );
  const { slice, next_cursor, has_more } = paginate(models, limit, page);
  return json({
    models: slice.map((model) => {
      const item: Record<string, unknown> = {
        endpoint_id: model.endpointId,
        metadata: modelMetadata(model, ctx.origin),
      };
      if (expand.includes("openapi-3.0")) {
        item.openapi = model.openapiExpansionFails
          ? {
            error: {
              code: "expansion_failed",
              message: `Failed to expand the OpenAPI schema of ${model.endpointId}`,
            },
          }
          : openApiDocument(model, ctx.origin);
      }
      if (expand.includes("enterprise_status")) {
        item.enterprise_status = model.metadata.status === "active" ? "ready" : "pending";
      }
      return item;
    }),
    next_cursor,
    has_more,
  });
}

function requireModels(ids: string[]): CatalogueModel[] {
  return ids.map((id) => findModel(id) ?? fail(404, "not_found", `Endpoint '${id}' not found`));
}

function pricing(url: URL): Response {
  const ids = endpointIds(url.searchParams);
  if (ids.length === 0) fail(400, "validation_error", "endpoint_id is required (1-50 values)");
  const { limit, page } = paging(url.searchParams, MAX_ENDPOINT_IDS);
  const prices = requireModels(ids).map((model) => ({
    endpoint_id: model.endpointId,
    unit_price: model.pricing.unit_price,
    unit: model.pricing.unit,
    currency: model.pricing.currency,
  }));
  const { slice, next_cursor, has_more } = paginate(prices, limit, page);
  return json({ prices: slice, next_cursor, has_more });
}

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

async function estimate(req: Request): Promise<Response> {
  const body = await readJson(req);
  if (!body.ok || !isObject(body.value)) {
    fail(400, "validation_error", "Body must be a JSON object");
  }
  const { estimate_type: type, endpoints } = body.value;
  if (type !== "historical_api_price" && type !== "unit_price") {
    fail(400, "validation_error", "estimate_type must be one of: historical_api_price, unit_price");
  }
  if (!isObject(endpoints) || Object.keys(endpoints).length === 0) {
    fail(400, "validation_error", "endpoints must be a non-empty object keyed by endpoint id");
  }
  if (Object.keys(endpoints).length > MAX_ENDPOINT_IDS) {
    fail(400, "validation_error", `endpoints accepts at most ${MAX_ENDPOINT_IDS} entries`);
  }
  const field = type === "historical_api_price" ? "call_quantity" : "unit_quantity";
  let total = 0;
  for (const [id, spec] of Object.entries(endpoints)) {
    const [model] = requireModels([id]);
    const quantity = isObject(spec) ? spec[field] : undefined;
    if (typeof quantity !== "number" || !Number.isFinite(quantity) || quantity < 0) {
      fail(400, "validation_error", `endpoints['${id}'].${field} must be a number >= 0`);
    }
    const units = type === "historical_api_price"
      ? quantity * model!.pricing.historical_units_per_call
      : quantity;
    total += units * model!.pricing.unit_price;
  }
  return json({ estimate_type: type, total_cost: round6(total), currency: "USD" });
}

function parseDate(value: string | null, name: string, fallback: Date): Date {
  if (value === null || value === "") return fallback;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    fail(400, "validation_error", `${name} must be an ISO 8601 date-time`);
  }
  return date;
}

function bucketOf(date: Date, timeframe: string): string {
  const d = new Date(date.getTime());
  switch (timeframe) {
    case "minute":
      d.setUTCSeconds(0, 0);
      break;
    case "hour":
      d.setUTCMinutes(0, 0, 0);
      break;
    case "week": {
      d.setUTCHours(0, 0, 0, 0);
      d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
      break;
    }
    case "month":
      d.setUTCHours(0, 0, 0, 0);
      d.setUTCDate(1);
      break;
    default:
      d.setUTCHours(0, 0, 0, 0);
  }
  return d.toISOString();
}

interface UsageLine {
  endpoint_id: string;
  unit: string;
  quantity: number;
  unit_price: number;
}

function aggregate(jobs: FakeJob[]): UsageLine[] {
  const lines = new Map<string, UsageLine>();
  for (const job of jobs) {
    const model = findModel(job.endpointId);
    if (!model) continue;
    const line = lines.get(job.endpointId) ?? {
      endpoint_id: job.endpointId,
      unit: model.pricing.unit,
      quantity: 0,
      unit_price: model.pricing.unit_price,
    };
    line.quantity = round6(line.quantity + job.units);
    lines.set(job.endpointId, line);
  }
  return [...lines.values()];
}

function usage(ctx: FakeContext, url: URL, key: string): Response {
  const params = url.searchParams;
  const now = new Date();
  const end = parseDate(params.get("end"), "end", now);
  const start = parseDate(params.get("start"), "start", new Date(end.getTime() - 86_400_000));
  if (start > end) fail(400, "validation_error", "start must not be after end");
  const ids = endpointIds(params);
  const expand = listParam(params, "expand");
  const unknown = expand.find((value) => !USAGE_EXPANSIONS.includes(value));
  if (unknown !== undefined) {
    fail(400, "validation_error", `Unsupported expand value '${unknown}'`);
  }
  if (expand.length === 0) expand.push("time_series");
  const timeframe = params.get("timeframe") ?? "day";
  if (!TIMEFRAMES.includes(timeframe)) {
    fail(400, "validation_error", `timeframe must be one of: ${TIMEFRAMES.join(", ")}`);
  }
  const { limit, page } = paging(params, 50);
  const jobs = [...ctx.state.jobs.values()].filter((job) => {
    if (
      !sameAccount(ctx.options, job.key, key) || job.status !== "COMPLETED" || !job.result ||
      !job.completedAt
    ) {
      return false;
    }
    const at = new Date(job.completedAt);
    return job.result.status < 400 && at >= start && at <= end &&
      (ids.length === 0 || ids.includes(job.endpointId));
  });
  const buckets = new Map<string, FakeJob[]>();
  for (const job of jobs) {
    const bucket = bucketOf(new Date(job.completedAt!), timeframe);
    buckets.set(bucket, [...(buckets.get(bucket) ?? []), job]);
  }
  const series = [...buckets.keys()].sort().map((bucket) => ({
    bucket,
    results: aggregate(buckets.get(bucket)!),
  }));
  const { slice, next_cursor, has_more } = paginate(series, limit, page);
  const body: Record<string, unknown> = {};
  if (expand.includes("time_series")) body.time_series = slice;
  if (expand.includes("summary")) body.summary = aggregate(jobs);
  body.next_cursor = next_cursor;
  body.has_more = has_more;
  return json(body);
}

const REQUEST_STATUSES = ["success", "error", "user_error"];
const REQUEST_EXPANSIONS = ["payloads", "billing"];
const REQUEST_SORTS = ["ended_at", "duration"];

/**
 * `GET /v1/models/requests/by-endpoint`: the key's queue requests of the given endpoints that
 * ended, newest end first, with inputs and outputs under `expand=payloads`.
 */
function requestsByEndpoint(ctx: FakeContext, url: URL, key: string): Response {
  const params = url.searchParams;
  const ids = endpointIds(params);
  if (ids.length === 0) fail(400, "validation_error", "endpoint_id is required");
  const requestId = params.get("request_id") ?? undefined;
  const now = new Date();
  const end = parseDate(params.get("end"), "end", now);
  const defaultSpan = requestId === undefined ? 86_400_000 : 90 * 86_400_000;
  const start = parseDate(params.get("start"), "start", new Date(end.getTime() - defaultSpan));
  const status = params.get("status");
  if (status !== null && !REQUEST_STATUSES.includes(status)) {
    fail(400, "validation_error", `status must be one of: ${REQUEST_STATUSES.join(", ")}`);
  }
  const expand = listParam(params, "expand");
  const unknown = expand.find((value) => !REQUEST_EXPANSIONS.includes(value));
  if (unknown !== undefined) fail(400, "validation_error", `Unsupported expand value '${unknown}'`);
  const sortBy = params.get("sort_by") ?? "ended_at";
  if (!REQUEST_SORTS.includes(sortBy)) {
    fail(400, "validation_error", `sort_by must be one of: ${REQUEST_SORTS.join(", ")}`);
  }
  const { limit, page } = paging(params, 50);
  const duration = (job: FakeJob) =>
    (Date.parse(job.completedAt!) - Date.parse(job.submittedAt)) / 1000;
  const jobs = [...ctx.state.jobs.values()].filter((job) => {
    if (job.key !== key || job.mode !== "queue" || !job.completedAt || !job.result) return false;
    if (!ids.includes(job.endpointId)) return false;
    if (requestId !== undefined && job.requestId !== requestId) return false;
    const ended = new Date(job.completedAt);
    if (ended < start || ended >= end) return false;
    const code = job.result.status;
    const kind = code < 400 ? "success" : code < 500 ? "user_error" : "error";
    return status === null || status === kind;
  });
  jobs.sort((a, b) =>
    sortBy === "duration" ? duration(b) - duration(a) : b.completedAt!.localeCompare(a.completedAt!)
  );
  const { slice, next_cursor, has_more } = paginate(jobs, limit, page);
  const items = slice.map((job) => ({
    request_id: job.requestId,
    endpoint_id: job.endpointId,
    sent_at: job.submittedAt,
    started_at: job.startedAt ?? null,
    ended_at: job.completedAt,
    status_code: job.result!.status,
    duration: duration(job),
    ...(expand.includes("payloads")
      ? { json_input: job.input, json_output: job.result!.body }
      : {}),
    ...(expand.includes("billing") ? { billable_units: job.units } : {}),
  }));
  return json({ items, next_cursor, has_more });
}

/** Handles everything under `{origin}/api/`. `segments` is the path after `/api/`. */
export async function handlePlatform(
  req: Request,
  ctx: FakeContext,
  segments: string[],
): Promise<Response> {
  const url = new URL(req.url);
  const path = segments.join("/");
  const routes: Record<string, { method: string; auth: boolean }> = {
    "v1/models": { method: "GET", auth: false },
    "v1/models/pricing": { method: "GET", auth: true },
    "v1/models/pricing/estimate": { method: "POST", auth: true },
    "v1/models/usage": { method: "GET", auth: true },
    "v1/models/requests/by-endpoint": { method: "GET", auth: true },
  };
  const route = routes[path];
  if (!route) return platformError(404, "not_found", `No route for ${url.pathname}`);
  if (req.method !== route.method) {
    const response = platformError(405, "validation_error", `Method ${req.method} not allowed`);
    response.headers.set("allow", route.method);
    return response;
  }
  const auth = authenticate(req, ctx.options.keys);
  if (!auth.ok && (route.auth || auth.reason === "invalid")) {
    return platformError(401, "authorization_error", authMessage(auth.reason));
  }
  try {
    switch (path) {
      case "v1/models":
        return listModels(ctx, url);
      case "v1/models/pricing":
        return pricing(url);
      case "v1/models/pricing/estimate":
        return await estimate(req);
      case "v1/models/requests/by-endpoint":
        return requestsByEndpoint(ctx, url, auth.ok ? auth.key : "");
      default: {
        const key = auth.ok ? auth.key : "";
        if (ctx.options.adminKeys && !ctx.options.adminKeys.has(key)) {
          return platformError(
            403,
            "authorization_error",
            "This operation requires an API key with the ADMIN scope",
          );
        }
        return usage(ctx, url, key);
      }
    }
  } catch (error) {
    if (error instanceof PlatformFailure) return error.response;
    throw error;
  }
}
