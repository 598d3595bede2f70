/**
 * A local fal.ai-compatible HTTP server for tests and offline demos. One origin serves all four
 * fal hosts under path prefixes, so a client configured with base URL `B` maps:
 *
 * | prefix     | real host        | what                                                  |
 * | ---------- | ---------------- | ----------------------------------------------------- |
 * | `B/queue`  | `queue.fal.run`  | submit, status (+ SSE stream), result, cancel         |
 * | `B/run`    | `fal.run`        | sync runs (and `/stream`)                             |
 * | `B/rest`   | `rest.fal.ai`    | storage upload initiate (single and multipart)        |
 * | `B/api`    | `api.fal.ai`     | `/v1/models`, pricing, estimate, usage                |
 *
 * It also serves generated media and uploads at `B/files/{name}` and pre-signed upload targets
 * at `B/upload/…`. Every URL it hands out is absolute on its own origin.
 *
 * Test hooks in the submitted input (ignored by the schemas, as extra fields are):
 * - `fake_duration_ms` (number ≥ 0): total running time of this job instead of `jobDurationMs`.
 * - `fake_fail` (string): end the job badly; one of the keys of {@linkcode FAKE_FAILURES}
 *   (`model_error`, `content_policy_violation`, `request_timeout`, `runner_disconnected`, …).
 * - `fake_output` (object) and `fake_output_bytes` (number): a hostile result (any URLs, a huge
 *   body) and `GET B/redirect?to=URL` (a 302 anywhere); see `hostile.ts`.
 *
 * Transport-level failures (429 with `Retry-After`, 5xx in fal's shapes, status streams that drop
 * before COMPLETED) are injected per request kind with `options.faults` or
 * {@linkcode FakeFal.injectFault}; see `faults.ts`.
 *
 * Like real fal, the queue accepts any JSON body: invalid input surfaces when the result is
 * fetched (the job reaches COMPLETED with only its logs; the result answers 422). Model failures
 * surface the same way; only gateway and request errors (timeouts, runner failures,
 * cancellation) put `error`/`error_type` on the COMPLETED status. Sync runs answer 422 at once.
 * Set `validateOnSubmit` to reject invalid queue submits with 422 instead. Status, result and
 * cancel answer only under the app id (`owner/app`), and results expire like fal's (1 hour, 6
 * minutes when 10 KB or more; `resultRetentionMs`, `largeResultRetentionMs`), after which the
 * result answers 404.
 *
 * @example Start, call, close
 * ```ts
 * import { startFakeFal } from "./server.ts";
 *
 * const fal = await startFakeFal({ jobDurationMs: 200 });
 * const res = await fetch(`${fal.url}/queue/fal-ai/flux/dev`, {
 *   method: "POST",
 *   headers: { authorization: "Key test", "content-type": "application/json" },
 *   body: JSON.stringify({ prompt: "a lighthouse", output_format: "png" }),
 * });
 * const { status_url } = await res.json();
 * await fal.close();
 * ```
 *
 * @module
 */

import { webhookHeaders, type WebhookSigningKey } from "./webhook_signing.ts";
import { authenticate, unauthorized } from "./auth.ts";
import { CATALOGUE, thumbnailName } from "./catalogue.ts";
import type { FakeContext, ResolvedOptions } from "./context.ts";
import { FAKE_FAILURES } from "./failures.ts";
import {
  dropStreamAfter,
  faultResponse,
  type FaultRule,
  FaultTable,
  type InjectedFault,
  silentStream,
} from "./faults.ts";
import { FileStore } from "./files.ts";
import { detail, notFound, sleep } from "./http.ts";
import { JobEngine } from "./jobs.ts";
import { listenError } from "../../src/listen_error.ts";
import { renderPng } from "./media.ts";
import { hashString } from "./outputs.ts";
import { handlePlatform } from "./platform.ts";
import { handleQueue, handleRun, produceFor } from "./queue.ts";
import {
  createState,
  type FakeFalState,
  type FakeJob,
  type ReceivedRequest,
  type WebhookDelivery,
} from "./state.ts";
import { handleRest, handleUpload } from "./storage.ts";
import { handleRedirect } from "./hostile.ts";

export { FAKE_FAILURES };
export type { Outcome } from "./failures.ts";
export type { FaultMatch, FaultRule, FaultTarget, InjectedFault } from "./faults.ts";
export type {
  FakeFalState,
  FakeJob,
  FakeJobResult,
  FakeJobStatus,
  FakeLog,
  FakeUpload,
  FakeUploadPart,
  ReceivedRequest,
  WebhookDelivery,
} from "./state.ts";

/** Options of {@linkcode startFakeFal}. */
export interface FakeFalOptions {
  /** Port to bind; 0 (default) picks a free port. */
  port?: number;
  /** Interface to bind; default `127.0.0.1`. */
  hostname?: string;
  /** Origin to put in handed-out URLs instead of `http://{hostname}:{port}`. */
  publicUrl?: string;
  /** Total running time of a job (queue + inference) in ms; default 600. */
  jobDurationMs?: number;
  /** Queue positions a job passes before IN_PROGRESS; default 2. */
  queueSteps?: number;
  /** Interval of `: ping` comments on status streams in ms; default 15000. */
  pingIntervalMs?: number;
  /** Accepted API keys; when omitted any non-empty `Key …` is accepted. */
  keys?: readonly string[];
  /**
   * Groups of keys of one fal account: a key sees the requests any key of its group submitted
   * (as after rotating a key). Keys in no group are accounts of their own.
   */
  accounts?: readonly (readonly string[])[];
  /** Answer 422 to invalid queue submits instead of failing the job later (fal's behaviour). */
  validateOnSubmit?: boolean;
  /** Bytes of each uploaded file kept in memory (default 16 MiB); beyond that bytes are counted. */
  maxKeptUploadBytes?: number;
  /**
   * Signs webhook deliveries with this key as fal does, and publishes its public half at
   * `/.well-known/jwks.json`. Without it deliveries are unsigned.
   */
  webhookSigning?: WebhookSigningKey;
  /** Faults in force from the start (see {@linkcode FakeFal.injectFault}). */
  faults?: readonly FaultRule[];
  /** How long results are kept after completion, in ms; default 3 600 000 (fal's hour). */
  resultRetentionMs?: number;
  /** How long results of 10 KB or more are kept, in ms; default 360 000 (fal's 6 minutes). */
  largeResultRetentionMs?: number;
  /** Keys with the Admin scope; the usage API answers 403 to other keys. All keys by default. */
  adminKeys?: readonly string[];
}

/** A running fake fal server. */
export interface FakeFal {
  /** Origin of the server (no trailing slash); the base URL to configure clients with. */
  readonly url: string;
  /** Bound port. */
  readonly port: number;
  /** Inspectable state: jobs, received requests, uploads, webhook deliveries. */
  readonly state: FakeFalState;
  /** Every fault injected so far (spent ones too), in order, with how often each fired. */
  readonly faults: readonly InjectedFault[];
  /**
   * Makes the next `rule.times` (default 1) requests matching `rule.match` fail as
   * `rule.respond` says; answers a handle whose `fired` counts them. Rules are tried in the order
   * they were added. Throws a RangeError for an invalid rule.
   */
  injectFault(rule: FaultRule): InjectedFault;
  /** Removes every fault rule. */
  clearFaults(): void;
  /** Request ids of every queue submit the fake accepted (answered with a request id), in order. */
  accepted(): string[];
  /** Stops timers, closes open streams, waits for webhook deliveries and shuts the server down. */
  close(): Promise<void>;
}

function resolveOptions(options: FakeFalOptions): ResolvedOptions {
  const nonNegative = (value: number | undefined, fallback: number, name: string) => {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`Cannot start the fake fal server: ${name} must be a number >= 0`);
    }
    return value;
  };
  const resolved: ResolvedOptions = {
    jobDurationMs: nonNegative(options.jobDurationMs, 600, "jobDurationMs"),
    queueSteps: Math.floor(nonNegative(options.queueSteps, 2, "queueSteps")),
    pingIntervalMs: Math.max(1, nonNegative(options.pingIntervalMs, 15_000, "pingIntervalMs")),
    validateOnSubmit: options.validateOnSubmit ?? false,
    maxKeptBytes: nonNegative(options.maxKeptUploadBytes, 16 * 1024 * 1024, "maxKeptUploadBytes"),
    resultRetentionMs: nonNegative(options.resultRetentionMs, 3_600_000, "resultRetentionMs"),
    largeResultRetentionMs: nonNegative(
      options.largeResultRetentionMs,
      360_000,
      "largeResultRetentionMs",
    ),
    accounts: new Map(
      (options.accounts ?? []).flatMap((group, account) => group.map((key) => [key, account])),
    ),
  };
  if (options.keys) resolved.keys = new Set(options.keys);
  if (options.adminKeys) resolved.adminKeys = new Set(options.adminKeys);
  return resolved;
}

function originFor(hostname: string, port: number): string {
  if (hostname === "0.0.0.0" || hostname === "::" || hostname === "") {
    return `http://127.0.0.1:${port}`;
  }
  return hostname.includes(":") ? `http://[${hostname}]:${port}` : `http://${hostname}:${port}`;
}

async function route(req: Request, ctx: FakeContext): Promise<Response> {
  const url = new URL(req.url);
  const segments = url.pathname.split("/").slice(1);
  if (segments.length > 1 && segments.at(-1) === "") segments.pop();
  const [head, ...rest] = segments;
  switch (head) {
    case "queue":
    case "run":
    case "rest": {
      const auth = authenticate(req, ctx.options.keys);
      if (!auth.ok) return unauthorized(auth.reason);
      if (head === "queue") return await handleQueue(req, ctx, rest, auth.key);
      if (head === "run") return await handleRun(req, ctx, rest, auth.key);
      return await handleRest(req, ctx, rest);
    }
    case "api":
      return await handlePlatform(req, ctx, rest);
    case "files":
      return rest.length === 0 ? notFound() : ctx.files.serve(req, rest.join("/"));
    case "upload":
      return await handleUpload(req, ctx, rest);
    case "redirect":
      return handleRedirect(req);
    default:
      return notFound();
  }
}

/**
 * Starts a fake fal server on 127.0.0.1 (a free port unless `options.port` is given). Rejects
 * when the options are invalid or the port cannot be bound.
 */
export function startFakeFal(options: FakeFalOptions = {}): Promise<FakeFal> {
  try {
    return Promise.resolve(start(options));
  } catch (error) {
    return Promise.reject(error);
  }
}

function start(options: FakeFalOptions): FakeFal {
  const resolved = resolveOptions(options);
  const state = createState();
  const faults = new FaultTable();
  for (const rule of options.faults ?? []) faults.add(rule);
  const closing = new AbortController();
  const streams = new Set<() => void>();
  const deliveries = new Set<Promise<void>>();

  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const falHeaders: Record<string, string> = {};
    req.headers.forEach((value, name) => {
      if (name.startsWith("x-fal-")) falHeaders[name] = value;
    });
    const record: ReceivedRequest = {
      method: req.method,
      path: url.pathname,
      search: url.search,
      hasAuthorization: req.headers.has("authorization"),
      contentType: req.headers.get("content-type"),
      falHeaders,
      status: 0,
      at: new Date().toISOString(),
    };
    state.requests.push(record);
    if (url.pathname === "/.well-known/jwks.json" && options.webhookSigning) {
      record.status = 200;
      return Response.json({ keys: [options.webhookSigning.publicJwk] });
    }
    let response: Response;
    try {
      const fault = faults.take(req.method, url.pathname);
      if (fault) record.fault = String(fault.rule.respond);
      if (fault && fault.rule.respond === "silent_stream") {
        response = silentStream(req.signal, closing.signal);
      } else if (fault && fault.rule.respond === "delay_answer") {
        response = await route(req, context);
        await sleep(fault.rule.delayMs ?? 60_000, req.signal, closing.signal).catch(() => {});
      } else if (fault && fault.rule.respond !== "drop_stream") {
        response = faultResponse(fault.rule, url.pathname);
      } else {
        response = await route(req, context);
        if (fault) response = dropStreamAfter(response, fault.rule.events ?? 1);
      }
    } catch (error) {
      record.internalError = error instanceof Error ? error.message : String(error);
      response = detail(500, "Internal Server Error");
    }
    record.status = response.status;
    return response;
  };

  const hostname = options.hostname ?? "127.0.0.1";
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({ hostname, port: options.port ?? 0, onListen: () => {} }, handler);
  } catch (error) {
    throw listenError(error, hostname, options.port ?? 0) ?? error;
  }
  const port = server.addr.port;
  const origin = (options.publicUrl ?? originFor(hostname, port)).replace(/\/+$/, "");
  const files = new FileStore(origin);
  for (const model of CATALOGUE) {
    const seed = hashString(model.endpointId);
    files.put(thumbnailName(model), "image/png", renderPng({ width: 256, height: 256, seed }));
  }

  const deliverWebhook = (job: FakeJob): void => {
    const url = job.webhookUrl;
    const result = job.result;
    if (!url || !result) return;
    const okay = result.status < 400;
    const body = okay
      ? {
        request_id: job.requestId,
        gateway_request_id: job.requestId,
        status: "OK",
        payload: result.body,
        error: null,
      }
      : {
        request_id: job.requestId,
        gateway_request_id: job.requestId,
        status: "ERROR",
        error: `Invalid status code: ${result.status}`,
        payload: result.body,
      };
    const delivery: WebhookDelivery = { requestId: job.requestId, url, body };
    state.webhooks.push(delivery);
    const promise = (async () => {
      try {
        const text = JSON.stringify(body);
        const signed = options.webhookSigning
          ? await webhookHeaders(options.webhookSigning, job.requestId, text)
          : {};
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...signed },
          body: text,
          signal: closing.signal,
        });
        delivery.status = res.status;
        await res.body?.cancel();
      } catch (error) {
        delivery.error = error instanceof Error ? error.message : String(error);
      }
    })();
    deliveries.add(promise);
    promise.finally(() => deliveries.delete(promise));
  };

  const engine = new JobEngine(state, resolved.queueSteps, {
    produce: (job) => produceFor(context, job),
    completed: deliverWebhook,
  });
  const context: FakeContext = {
    origin,
    options: resolved,
    state,
    files,
    engine,
    closing: closing.signal,
    trackStream(close) {
      streams.add(close);
      return () => void streams.delete(close);
    },
  };

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing.abort(new Error("The fake fal server is closing"));
      engine.close();
      for (const stop of [...streams]) stop();
      await Promise.allSettled([...deliveries]);
      await server.shutdown();
    })();
    return closed;
  };

  return {
    url: origin,
    port,
    state,
    get faults() {
      return faults.all;
    },
    injectFault: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    accepted: () =>
      [...state.jobs.values()].filter((job) => job.mode === "queue").map((job) => job.requestId),
    close,
  };
}
