/**
 * The inference hosts of the fake: the queue (`{origin}/queue` = queue.fal.run: submit, status,
 * status stream, result, cancel) and sync runs (`{origin}/run` = fal.run, plus `/stream`).
 *
 * @module
 */

import { CATALOGUE, type CatalogueModel, findModel, schemasOf } from "./catalogue.ts";
import { type FakeContext, sameAccount } from "./context.ts";
import { FAKE_FAILURES, type Outcome, requestError, validationFailure } from "./failures.ts";
import { inputDownloadFailure } from "./input_urls.ts";
import {
  detail,
  isObject,
  json,
  methodNotAllowed,
  notFound,
  readJson,
  sleep,
  SSE_HEADERS,
  SSE_PING,
  sseData,
} from "./http.ts";
import type { JobPlan } from "./jobs.ts";
import { generateOutput } from "./outputs.ts";
import { hostileOutcome, resultResponse } from "./hostile.ts";
import type { FakeJob, FakeLog } from "./state.ts";
import { validateValue, type ValidationIssue } from "./validate.ts";

const NAMESPACES = ["workflows", "comfy"];

/** An endpoint id split like fal's clients do. */
interface EndpointRef {
  endpointId: string;
  appId: string;
  alias: string;
}

function parseEndpoint(segments: readonly string[]): EndpointRef | undefined {
  const offset = NAMESPACES.includes(segments[0] ?? "") ? 1 : 0;
  if (segments.length < offset + 2 || segments.some((s) => s === "")) return undefined;
  return {
    endpointId: segments.join("/"),
    appId: segments.slice(0, offset + 2).join("/"),
    alias: segments[offset + 1]!,
  };
}

function appIdOf(endpointId: string): string {
  return parseEndpoint(endpointId.split("/"))?.appId ?? endpointId;
}

/** The catalogue model for a path, or fal's 404 answer. */
function resolveModel(
  segments: readonly string[],
): { model: CatalogueModel; ref: EndpointRef } | Response {
  const ref = parseEndpoint(segments);
  if (!ref) return notFound();
  const model = findModel(ref.endpointId);
  if (model) return { model, ref };
  const appExists = CATALOGUE.some((m) => appIdOf(m.endpointId) === ref.appId);
  return appExists ? notFound() : detail(404, `Application '${ref.alias}' not found`);
}

/** `x-fal-*` headers of a request. */
function falHeaders(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  req.headers.forEach((value, name) => {
    if (name.startsWith("x-fal-")) out[name] = value;
  });
  return out;
}

/** Parses `x-fal-request-timeout` (seconds, > 0); a Response when it is invalid. */
function requestTimeoutMs(req: Request): number | undefined | Response {
  const raw = req.headers.get("x-fal-request-timeout");
  if (raw === null) return undefined;
  const seconds = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
    return detail(
      400,
      "Invalid x-fal-request-timeout header: expected a positive number of seconds",
      { "x-fal-error-type": "bad_request" },
    );
  }
  return seconds * 1000;
}

/** Input checks done before a job runs: schema validation and the test hooks. */
function precheck(model: CatalogueModel, body: unknown): {
  input: Record<string, unknown>;
  issues: ValidationIssue[];
  plan: JobPlan;
} {
  if (!isObject(body)) {
    const issues = [{ loc: ["body"], msg: "value is not a valid dict", type: "type_error.dict" }];
    return { input: {}, issues, plan: { when: "start", outcome: validationFailure(issues) } };
  }
  const issues = validateValue(body, { $ref: `#/components/schemas/${model.inputSchema}` }, {
    ...schemasOf(model),
  });
  const duration = body.fake_duration_ms;
  if (duration !== undefined && !(typeof duration === "number" && duration >= 0)) {
    issues.push({
      loc: ["body", "fake_duration_ms"],
      msg: "ensure this value is a number greater than or equal to 0",
      type: "value_error.number.not_ge",
      ctx: { limit_value: 0 },
    });
  }
  let failure: Outcome | undefined;
  const fail = body.fake_fail;
  if (fail !== undefined) {
    const make = typeof fail === "string" ? FAKE_FAILURES[fail] : undefined;
    if (make) {
      failure = make();
    } else {
      const permitted = Object.keys(FAKE_FAILURES);
      issues.push({
        loc: ["body", "fake_fail"],
        msg: `unexpected value; permitted: ${permitted.map((p) => `'${p}'`).join(", ")}`,
        type: "value_error.const",
        ctx: { given: fail, permitted },
      });
    }
  }
  if (issues.length > 0) {
    return { input: body, issues, plan: { when: "start", outcome: validationFailure(issues) } };
  }
  return {
    input: body,
    issues,
    plan: failure ? { when: "end", outcome: failure } : { when: "end" },
  };
}

/** {@linkcode precheck}, then the input URLs: one fal cannot download fails the job at its end. */
async function precheckWithUrls(ctx: FakeContext, model: CatalogueModel, body: unknown) {
  const checked = precheck(model, body);
  if (checked.issues.length > 0 || checked.plan.outcome) return checked;
  const failure = await inputDownloadFailure(ctx, checked.input);
  return failure ? { ...checked, plan: { when: "end" as const, outcome: failure } } : checked;
}

function durationOf(ctx: FakeContext, input: Record<string, unknown>): number {
  const value = input.fake_duration_ms;
  return typeof value === "number" && value >= 0 ? value : ctx.options.jobDurationMs;
}

function jobUrls(ctx: FakeContext, job: FakeJob) {
  const base = `${ctx.origin}/queue/${job.appId}/requests/${job.requestId}`;
  return { response_url: base, status_url: `${base}/status`, cancel_url: `${base}/cancel` };
}

/** A job's status object as fal answers it; `logs` is `null` unless logs were asked for. */
function statusBody(ctx: FakeContext, job: FakeJob, logs: FakeLog[] | null) {
  const body: Record<string, unknown> = {
    status: job.status,
    request_id: job.requestId,
    ...jobUrls(ctx, job),
    logs,
    metrics: {},
  };
  if (job.status === "IN_QUEUE") body.queue_position = job.queuePosition;
  if (job.status === "COMPLETED") {
    if (job.inferenceTime !== undefined) body.metrics = { inference_time: job.inferenceTime };
    // Gateway and request errors (timeouts, runner failures, cancellation) show on the status;
    // a model's own failure (validation included) only comes with the result.
    if (job.error?.type) {
      body.error = job.error.message;
      if (job.error.type) body.error_type = job.error.type;
    }
  }
  return body;
}

/** Whether fal has dropped the job's result: kept 1 hour, or less when it is 10 KB or more. */
function resultExpired(ctx: FakeContext, job: FakeJob): boolean {
  if (!job.completedAt || !job.result) return false;
  const size = new TextEncoder().encode(JSON.stringify(job.result.body ?? null)).length;
  const keep = size >= LARGE_RESULT_BYTES
    ? ctx.options.largeResultRetentionMs
    : ctx.options.resultRetentionMs;
  return Date.now() - Date.parse(job.completedAt) >= keep;
}

/** Results of this size or more are kept for `largeResultRetentionMs` only. */
export const LARGE_RESULT_BYTES = 10 * 1024;

function wantsLogs(url: URL): boolean {
  const value = url.searchParams.get("logs");
  return value === "1" || value === "true";
}

function invalidJson(message: string): Response {
  return detail(422, [{
    loc: ["body", 0],
    msg: `Invalid JSON body: ${message}`,
    type: "value_error.jsondecode",
  }]);
}

/** Produces the real output of a job. */
export function produceFor(ctx: FakeContext, job: FakeJob): Outcome {
  const model = findModel(job.endpointId);
  if (!model) throw new Error(`Cannot run ${job.endpointId}: not in the catalogue`);
  return hostileOutcome(
    job.input,
    generateOutput(model, job.input, {
      requestId: job.requestId,
      files: ctx.files,
      inferenceSeconds: Math.round(ctx.engine.inferenceSeconds(job) * 1000) / 1000,
    }),
  );
}

/** Handles everything under `{origin}/queue/`. `segments` is the path after `/queue/`. */
export async function handleQueue(
  req: Request,
  ctx: FakeContext,
  segments: string[],
  key: string,
): Promise<Response> {
  const url = new URL(req.url);
  const at = segments.indexOf("requests", 2);
  if (at >= 2 && segments.length > at + 1 && parseEndpoint(segments.slice(0, at))) {
    const appPath = segments.slice(0, at).join("/");
    const requestId = segments[at + 1]!;
    const tail = segments.slice(at + 2).join("/");
    const job = ctx.state.jobs.get(requestId);
    // Like fal, a request answers only under its app id (`owner/app`), not the full endpoint id.
    const visible = job !== undefined && job.mode === "queue" &&
      sameAccount(ctx.options, job.key, key) && appPath === job.appId;
    switch (tail) {
      case "":
        if (req.method !== "GET") return methodNotAllowed(["GET"]);
        if (!visible) return detail(404, "Request not found");
        if (job.status !== "COMPLETED" || !job.result) {
          return detail(400, "Request is still in progress");
        }
        if (resultExpired(ctx, job)) return detail(404, "Request not found");
        return resultResponse(job.result.body, job.result.status, {
          ...job.result.headers,
          "x-fal-request-id": job.requestId,
        });
      case "status":
        if (req.method !== "GET") return methodNotAllowed(["GET"]);
        if (!visible) return detail(404, "Request not found");
        return json(
          statusBody(ctx, job, wantsLogs(url) ? [...job.logs] : null),
          job.status === "COMPLETED" ? 200 : 202,
        );
      case "status/stream":
        if (req.method !== "GET") return methodNotAllowed(["GET"]);
        if (!visible) return detail(404, "Request not found");
        return statusStream(ctx, job, wantsLogs(url));
      case "cancel":
        if (req.method !== "PUT") return methodNotAllowed(["PUT"]);
        if (!visible) return json({ status: "NOT_FOUND" }, 404);
        if (!ctx.engine.cancel(job)) return json({ status: "ALREADY_COMPLETED" }, 400);
        return json({ status: "CANCELLATION_REQUESTED" }, 202);
      default:
        return notFound();
    }
  }

  if (req.method !== "POST") return methodNotAllowed(["POST"]);
  const resolved = resolveModel(segments);
  if (resolved instanceof Response) return resolved;
  const { model, ref } = resolved;
  const timeoutMs = requestTimeoutMs(req);
  if (timeoutMs instanceof Response) return timeoutMs;
  const webhook = url.searchParams.get("fal_webhook") ?? undefined;
  if (webhook !== undefined && !/^https?:\/\/[^\s/]+/i.test(webhook)) {
    return detail(400, "Invalid fal_webhook URL");
  }
  const body = await readJson(req);
  if (!body.ok) return invalidJson(body.message);
  const checked = await precheckWithUrls(ctx, model, body.value);
  if (ctx.options.validateOnSubmit && checked.issues.length > 0) {
    return detail(422, checked.issues);
  }
  const job = ctx.engine.submit({
    endpointId: ref.endpointId,
    appId: ref.appId,
    displayName: model.metadata.display_name,
    input: checked.input,
    key,
    headers: falHeaders(req),
    ...(webhook === undefined ? {} : { webhookUrl: webhook }),
    durationMs: durationOf(ctx, checked.input),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    plan: checked.plan,
  });
  return json(
    {
      status: "IN_QUEUE",
      request_id: job.requestId,
      ...jobUrls(ctx, job),
      logs: null,
      metrics: {},
      queue_position: job.queuePosition,
    },
    200,
    { "x-fal-request-id": job.requestId },
  );
}

/**
 * `text/event-stream` of a job's status: one `data:` event per change (logs in each event are
 * only the lines new since the previous event, which is how fal's clients accumulate them), a
 * `: ping` comment every `pingIntervalMs`, closed after COMPLETED.
 */
function statusStream(ctx: FakeContext, job: FakeJob, withLogs: boolean): Response {
  let stop = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let sentLogs = 0;
      let last = "";
      let done = false;
      // The client may drop the connection at any time, which errors the stream under us:
      // then there is nothing left to write to, and the stream just stops.
      const write = (chunk: Uint8Array) => {
        try {
          controller.enqueue(chunk);
        } catch {
          stop();
        }
      };
      const end = () => {
        stop();
        try {
          controller.close();
        } catch {
          // already errored or closed
        }
      };
      const send = () => {
        if (done) return;
        const logs = withLogs ? job.logs.slice(sentLogs) : null;
        sentLogs = job.logs.length;
        const body = statusBody(ctx, job, logs);
        const text = JSON.stringify(body);
        if (text !== last) {
          last = text;
          write(sseData(body));
        }
        if (job.status === "COMPLETED" && !done) end();
      };
      const ping = setInterval(() => write(SSE_PING), ctx.options.pingIntervalMs);
      const unsubscribe = ctx.engine.subscribe(job, send);
      const untrack = ctx.trackStream(() => {
        if (!done) end();
      });
      stop = () => {
        done = true;
        clearInterval(ping);
        unsubscribe();
        untrack();
      };
      send();
    },
    cancel() {
      stop();
    },
  });
  return new Response(stream, { status: 200, headers: SSE_HEADERS });
}

/** Handles everything under `{origin}/run/` (sync runs). `segments` is the path after `/run/`. */
export async function handleRun(
  req: Request,
  ctx: FakeContext,
  segments: string[],
  key: string,
): Promise<Response> {
  if (req.method !== "POST") return methodNotAllowed(["POST"]);
  let streaming = false;
  let resolved = resolveModel(segments);
  if (resolved instanceof Response && segments.at(-1) === "stream") {
    const inner = resolveModel(segments.slice(0, -1));
    if (!(inner instanceof Response)) {
      resolved = inner;
      streaming = true;
    }
  }
  if (resolved instanceof Response) return resolved;
  const { model, ref } = resolved;
  const timeoutMs = requestTimeoutMs(req);
  if (timeoutMs instanceof Response) return timeoutMs;
  const body = await readJson(req);
  if (!body.ok) return invalidJson(body.message);
  const checked = await precheckWithUrls(ctx, model, body.value);
  const job: FakeJob = {
    requestId: crypto.randomUUID(),
    endpointId: ref.endpointId,
    appId: ref.appId,
    mode: "sync",
    input: checked.input,
    key,
    headers: falHeaders(req),
    durationMs: durationOf(ctx, checked.input),
    submittedAt: new Date().toISOString(),
    startedAt: new Date().toISOString(),
    status: "IN_PROGRESS",
    queuePosition: 0,
    logs: [],
    cancelled: false,
    units: 0,
  };
  ctx.state.jobs.set(job.requestId, job);
  const finish = (outcome: Outcome): Outcome => {
    job.status = "COMPLETED";
    job.completedAt = new Date().toISOString();
    job.inferenceTime = ctx.engine.inferenceSeconds(job);
    job.result = { status: outcome.status, body: outcome.body, headers: outcome.headers };
    if (outcome.error) job.error = outcome.error;
    job.units = outcome.units;
    return outcome;
  };
  const answer = (outcome: Outcome) =>
    resultResponse(outcome.body, outcome.status, {
      ...outcome.headers,
      "x-fal-request-id": job.requestId,
    });

  if (checked.plan.when === "start" && checked.plan.outcome) {
    return answer(finish(checked.plan.outcome));
  }
  const run = async (): Promise<Outcome> => {
    const wait = timeoutMs === undefined ? job.durationMs : Math.min(job.durationMs, timeoutMs);
    try {
      await sleep(wait, req.signal, ctx.closing);
    } catch {
      job.cancelled = true;
      return finish(
        ctx.closing.aborted
          ? FAKE_FAILURES.runner_disconnected!()
          : requestError(499, "client_disconnected", "The client closed the connection"),
      );
    }
    if (timeoutMs !== undefined && timeoutMs < job.durationMs) {
      return finish(FAKE_FAILURES.request_timeout!());
    }
    return finish(checked.plan.outcome ?? produceFor(ctx, job));
  };

  if (!streaming) return answer(await run());

  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      const outcome = await run();
      if (outcome.status >= 400) {
        controller.enqueue(
          sseData({ status: outcome.status, ...(outcome.body as object) }, "error"),
        );
      } else {
        controller.enqueue(sseData(outcome.body));
      }
      controller.close();
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { ...SSE_HEADERS, "x-fal-request-id": job.requestId },
  });
}
