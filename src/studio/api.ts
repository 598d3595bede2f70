/**
 * The studio's JSON API under `/studio/api/`: the caller's jobs (with live status), running a
 * model, a model's schema, price estimates and spend. Every call acts as the caller's principal
 * through the same `ServerDeps` and `JobManager` the MCP tools use, so a caller sees only their
 * own jobs, exactly as with `list_jobs`.
 *
 * @module
 */

import type { ServerDeps } from "../context.ts";
import { parseEndpointId } from "../fal/endpoint_id.ts";
import { FalApiError } from "../fal/errors.ts";
import { estimateCost, fetchPricing } from "../fal/platform.ts";
import { validateModelInput } from "../fal/validate_input.ts";
import { FalMcpError, JsonRpcCode } from "../errors.ts";
import { readBody } from "../protocol/read_body.ts";
import type { JobRecord } from "../jobs/types.ts";
import { CallCosts } from "./costs.ts";
import { type JobView, jobView, type MediaKind } from "./job_view.ts";
import { spendOf } from "./spend.ts";

/** Most jobs one listing reads from the store. */
export const MAX_LISTED_JOBS = 500;
const PAGE = 100;
/** Largest request body of the studio API (a model input). */
export const MAX_STUDIO_BODY_BYTES = 1024 * 1024;

/** Answers one studio API request for the caller whose deps are given. */
export type StudioApi = (request: Request, path: string, deps: ServerDeps) => Promise<Response>;

function json(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

function problem(status: number, message: string): Response {
  return json({ error: { message } }, status);
}

function badRequest(message: string): never {
  throw new FalMcpError(message, { status: 400, code: JsonRpcCode.InvalidParams });
}

/** Every job of the caller, newest first (bounded by {@linkcode MAX_LISTED_JOBS}). */
async function ownJobs(deps: ServerDeps): Promise<JobRecord[]> {
  const jobs: JobRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.jobs.list({ owner: deps.principal.id, limit: PAGE, cursor });
    jobs.push(...page.jobs);
    cursor = page.nextCursor;
  } while (cursor && jobs.length < MAX_LISTED_JOBS);
  return jobs.slice(0, MAX_LISTED_JOBS);
}

async function readJson(request: Request): Promise<Record<string, unknown>> {
  const read = await readBody(request, MAX_STUDIO_BODY_BYTES);
  if (read.kind === "tooLarge") {
    throw new FalMcpError(
      `The request body is larger than ${MAX_STUDIO_BODY_BYTES} bytes: send a smaller input ` +
        "(upload media with upload_file and pass URLs)",
      { status: 413, code: JsonRpcCode.InvalidRequest },
    );
  }
  if (read.kind === "timedOut") {
    throw new FalMcpError("The request body did not arrive in time: send it again", {
      status: 408,
      code: JsonRpcCode.InvalidRequest,
    });
  }
  let body: unknown;
  try {
    body = JSON.parse(read.text);
  } catch {
    badRequest("The request body is not JSON: send a JSON object");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    badRequest("The request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function endpointParam(value: unknown): string {
  if (typeof value !== "string" || value.length < 3 || value.length > 200) {
    badRequest('Give "endpoint_id", a fal endpoint such as "fal-ai/flux/dev"');
  }
  return parseEndpointId(value).full;
}

function errorResponse(error: unknown, deps: ServerDeps): Response {
  if (error instanceof FalMcpError) return problem(error.status, error.message);
  if (error instanceof FalApiError) {
    const status = error.falStatus >= 400 && error.falStatus < 500 ? error.falStatus : 502;
    return problem(status, error.message);
  }
  deps.logger.error("studio request failed", { error });
  return problem(500, "Internal server error: the studio request failed; see the server log");
}

/** Builds the studio API (one per process: its cost cache is shared). */
export function createStudioApi(): StudioApi {
  const costs = new CallCosts();
  const view = async (deps: ServerDeps, record: JobRecord): Promise<JobView> =>
    jobView(
      record,
      record.status === "COMPLETED" ? await costs.perCall(deps.fal, record.endpointId) : undefined,
    );

  async function listJobs(url: URL, deps: ServerDeps): Promise<Response> {
    const model = url.searchParams.get("model") || undefined;
    const kind = (url.searchParams.get("kind") || undefined) as MediaKind | undefined;
    const since = url.searchParams.get("since") || undefined;
    const until = url.searchParams.get("until") || undefined;
    const records = (await ownJobs(deps)).filter((r) =>
      (!model || r.endpointId === model) &&
      (!since || r.createdAt.slice(0, 10) >= since) &&
      (!until || r.createdAt.slice(0, 10) <= until)
    );
    const jobs = (await Promise.all(records.map((r) => view(deps, r))))
      .filter((j) => !kind || j.kind === kind);
    const models = [...new Set(records.map((r) => r.endpointId))].sort();
    return json({ jobs, models });
  }

  async function run(request: Request, deps: ServerDeps): Promise<Response> {
    const body = await readJson(request);
    const endpointId = endpointParam(body.endpoint_id);
    const input = body.input;
    if (!input || typeof input !== "object" || Array.isArray(input)) {
      badRequest('Give "input", the model\'s input as a JSON object');
    }
    const info = await deps.schemas.get(deps.fal, endpointId);
    if (info.input) {
      const problems = validateModelInput(input as Record<string, unknown>, info.input);
      if (problems.length) {
        badRequest(`Input not accepted by ${endpointId}: ${problems.join("; ")}`);
      }
    }
    const record = await deps.jobs.submit(deps, endpointId, input, { tool: "studio" });
    return json(await view(deps, record), 201);
  }

  async function estimate(url: URL, deps: ServerDeps): Promise<Response> {
    const endpointId = endpointParam(url.searchParams.get("endpoint_id"));
    const quantity = Number(url.searchParams.get("quantity") ?? "1");
    if (!Number.isFinite(quantity) || quantity <= 0 || quantity > 1e6) {
      badRequest('"quantity" must be a positive number');
    }
    const [total, prices] = await Promise.allSettled([
      estimateCost(deps.fal, endpointId, quantity, "calls"),
      fetchPricing(deps.fal, [endpointId]),
    ]);
    if (total.status === "rejected") throw total.reason;
    const price = prices.status === "fulfilled"
      ? prices.value.find((p) => p.endpoint_id === endpointId)
      : undefined;
    return json({
      endpoint_id: endpointId,
      quantity,
      total_cost: total.value.total_cost,
      currency: total.value.currency,
      unit_price: price?.unit_price,
      unit: price?.unit,
    });
  }

  return async (request, path, deps) => {
    const url = new URL(request.url);
    const route = path.slice("/studio/api".length);
    const method = request.method;
    try {
      if (route === "/jobs" && method === "GET") return await listJobs(url, deps);
      const one = /^\/jobs\/([A-Za-z0-9._:-]{1,128})$/.exec(route);
      if (one && method === "GET") {
        return json(await view(deps, await deps.jobs.get(deps, one[1]!)));
      }
      if (route === "/run" && method === "POST") return await run(request, deps);
      if (route === "/schema" && method === "GET") {
        const info = await deps.schemas.get(
          deps.fal,
          endpointParam(url.searchParams.get("endpoint_id")),
        );
        return json({
          endpoint_id: info.endpointId,
          metadata: info.metadata,
          input: info.input,
          output: info.output,
        });
      }
      if (route === "/estimate" && method === "GET") return await estimate(url, deps);
      if (route === "/spend" && method === "GET") {
        const records = await ownJobs(deps);
        return json(await spendOf(records, (id) => costs.perCall(deps.fal, id)));
      }
      if (route === "/me" && method === "GET") {
        return json({ principal: deps.principal.id, kind: deps.principal.kind });
      }
      return problem(
        404,
        `Not Found: ${path} (the studio API has GET /jobs, /jobs/{id}, /schema, /estimate, ` +
          "/spend, /me and POST /run)",
      );
    } catch (error) {
      return errorResponse(error, deps);
    }
  };
}
