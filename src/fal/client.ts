/**
 * The fal.ai HTTP client: queue (submit, status, status stream, result, cancel), synchronous
 * runs and the platform models API. Plain `fetch`, no MCP types. Every host comes from
 * {@linkcode FalHosts}, and the key is only ever sent to those hosts (never to a URL fal hands
 * back), so a test or demo pointing at the fake never leaks a real key elsewhere.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import { type EndpointId, parseEndpointId } from "./endpoint_id.ts";
import {
  describeFalErrorBody,
  FalApiError,
  FalKeyRejectedError,
  MissingFalKeyError,
  SERVER_KEY_HINT,
} from "./errors.ts";
import type { FalHosts } from "./hosts.ts";
import { readSseData } from "./sse_parse.ts";
import { readBoundedResult } from "./bounded_result.ts";
import { sleep } from "../sleep.ts";
import { falFetch } from "../connection_pool.ts";
import type { Metrics } from "../metrics.ts";
import { withSpan } from "../telemetry.ts";
import type {
  CancelOutcome,
  ModelsPage,
  ModelsQuery,
  QueueStatus,
  QueueSubmission,
} from "./types.ts";
import { errorMessage } from "../errors.ts";

/** Options for {@linkcode FalClient}. */
export interface FalClientOptions {
  /** Where the fal APIs live. */
  hosts: FalHosts;
  /** The API key (`Key …` auth); calls that need it fail clearly without it. */
  key?: string | undefined;
  /** Injected fetch (tests); defaults to the global one. */
  fetch?: typeof fetch;
  /** Logger for retries and failures. */
  logger?: Logger;
  /** Attempts for a retryable call, first included (default 4). */
  maxAttempts?: number;
  /** First retry delay in ms, doubled each time (default 250). */
  retryBaseMs?: number;
  /** Metrics registry for fal call counts and durations. */
  metrics?: Metrics | undefined;
  /** What to tell a caller whose call needs a key when there is none (default: set FAL_KEY). */
  missingKeyMessage?: string | undefined;
  /** What to tell a caller whose key fal refused (default: check FAL_KEY). */
  rejectedKeyHint?: string | undefined;
  /**
   * A status stream that sends nothing at all (not even fal's `: ping`) for this long is given
   * up, and the job is polled instead (default 30 000 ms; fal pings about every 15 s).
   */
  streamIdleMs?: number | undefined;
}

/** The default of {@linkcode FalClientOptions.streamIdleMs}. */
export const DEFAULT_STREAM_IDLE_MS = 30_000;

/**
 * Which failures may be retried: `write` only what fal refused (429), `submit` also gateway
 * errors (502/503/504) and network errors, as fal's own JS client retries queue submits and
 * storage upload initiation, `read` gateway errors and network errors, `status` also 500
 * (fal's clients retry status reads on 500).
 */
export type RetryPolicy = "read" | "status" | "write" | "submit";

/** One call to a fal API, for {@linkcode FalClient.request}. */
export interface FalRequest {
  /** HTTP method. */
  method: "GET" | "POST" | "PUT";
  /** Absolute URL; must be on one of the client's hosts. */
  url: string;
  /** What the call does, as the start of error messages ("Cannot upload x"). */
  what: string;
  /** Which failures may be retried (`none`: the call is tried once). */
  retry: RetryPolicy | "none";
  /** Whether the key must be sent (`optional`: sent when configured). */
  auth: "required" | "optional" | "none";
  /** JSON body. */
  body?: unknown;
  /** Raw body (sent as is, never retried unless replayable). */
  rawBody?: BodyInit | undefined;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Aborts the call. */
  signal?: AbortSignal | undefined;
  /** Statuses that are answers, not errors (e.g. 400 on cancel). */
  accept?: number[];
  /**
   * Called each time an attempt got no answer (a network error) and the call is sent again: a
   * write may then have been received more than once.
   */
  onUnanswered?: (() => void) | undefined;
}

type CallSpec = FalRequest;

const RETRYABLE: Record<RetryPolicy | "none", ReadonlySet<number>> = {
  none: new Set(),
  // A rejected submit (429) was not accepted, so it is safe to send again; a 5xx might have been.
  write: new Set([429]),
  submit: new Set([429, 502, 503, 504]),
  read: new Set([429, 502, 503, 504]),
  status: new Set([429, 500, 502, 503, 504]),
};

function retryAfterMs(response: Response): number | undefined {
  const header = response.headers.get("retry-after");
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Largest error answer read whole (beyond it only its URLs would be kept, and none matter). */
const MAX_ERROR_BODY_BYTES = 1024 * 1024;

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A client for fal's REST APIs. Cheap to create; one per key. */
export class FalClient {
  readonly #hosts: FalHosts;
  readonly #key: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #log: Logger;
  readonly #maxAttempts: number;
  readonly #retryBaseMs: number;
  readonly #metrics: Metrics | undefined;
  readonly #missingKeyMessage: string | undefined;
  readonly #rejectedKeyHint: string;
  readonly #streamIdleMs: number;
  #owner: string | undefined;

  /** Creates a client for the given hosts and key. */
  constructor(options: FalClientOptions) {
    this.#hosts = options.hosts;
    this.#key = options.key;
    this.#fetch = options.fetch ?? falFetch;
    this.#log = options.logger ?? silentLogger;
    this.#maxAttempts = options.maxAttempts ?? 4;
    this.#retryBaseMs = options.retryBaseMs ?? 250;
    this.#metrics = options.metrics;
    this.#missingKeyMessage = options.missingKeyMessage;
    this.#rejectedKeyHint = options.rejectedKeyHint ?? SERVER_KEY_HINT;
    this.#streamIdleMs = options.streamIdleMs ?? DEFAULT_STREAM_IDLE_MS;
  }

  /**
   * Who this client acts for: a one-way hash of the key (`anonymous` without one). Jobs are
   * recorded under it, so one key never sees another key's jobs and the key is never stored.
   */
  get owner(): string {
    this.#owner ??= this.#key === undefined
      ? "anonymous"
      : createHash("sha256").update(this.#key).digest("hex").slice(0, 32);
    return this.#owner;
  }

  /** Whether a key is configured. */
  get hasKey(): boolean {
    return this.#key !== undefined;
  }

  /** The hosts this client talks to. */
  get hosts(): FalHosts {
    return this.#hosts;
  }

  /** Submits a job to the queue; answers at once with the request id. */
  async submit(
    endpointId: string,
    input: unknown,
    options: { signal?: AbortSignal; webhookUrl?: string; onUnanswered?: () => void } = {},
  ): Promise<QueueSubmission> {
    const id = parseEndpointId(endpointId);
    const query = options.webhookUrl
      ? `?fal_webhook=${encodeURIComponent(options.webhookUrl)}`
      : "";
    const body = await this.#call({
      method: "POST",
      url: `${this.#hosts.queue}/${id.full}${query}`,
      what: `Cannot submit job to ${id.full}`,
      retry: "submit",
      auth: "required",
      body: input,
      signal: options.signal,
      onUnanswered: options.onUnanswered,
    });
    const submission = body as QueueSubmission;
    if (!submission || typeof submission.request_id !== "string") {
      throw new FalApiError(`Cannot submit job to ${id.full}: fal answered without a request id`, {
        falStatus: 200,
        body,
      });
    }
    return submission;
  }

  /** Reads a job's status (with logs). */
  async status(
    endpointId: string,
    requestId: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<QueueStatus> {
    const id = parseEndpointId(endpointId);
    return await this.#call({
      method: "GET",
      url: `${this.#requestUrl(id, requestId)}/status?logs=1`,
      what: `Cannot read the status of ${id.app} request ${requestId}`,
      retry: "status",
      auth: "required",
      signal: options.signal,
    }) as QueueStatus;
  }

  /**
   * Follows a job's status stream, yielding each status until fal closes the stream (after
   * COMPLETED). The stream is tried once (no retries) and given up when it sends nothing for
   * the idle timeout; the caller falls back to {@linkcode FalClient.status} on any failure and
   * when the stream ends early.
   *
   * @throws {FalApiError} when the stream cannot be opened or falls silent.
   */
  async *streamStatus(
    endpointId: string,
    requestId: string,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<QueueStatus> {
    const id = parseEndpointId(endpointId);
    const what = `Cannot follow the status of ${id.app} request ${requestId}`;
    const idle = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(), this.#streamIdleMs);
    };
    arm();
    try {
      let response: Response;
      try {
        response = await this.#send({
          method: "GET",
          url: `${this.#requestUrl(id, requestId)}/status/stream?logs=1`,
          what,
          retry: "none",
          auth: "required",
          headers: { accept: "text/event-stream" },
          signal,
        });
      } catch (error) {
        if (idle.signal.aborted && !options.signal?.aborted) throw this.#silent(what);
        throw error;
      }
      if (!response.body) return;
      try {
        // Any byte, a `: ping` included, proves the stream alive.
        for await (const data of readSseData(response.body, arm)) {
          let status: QueueStatus;
          try {
            status = JSON.parse(data) as QueueStatus;
          } catch {
            continue; // a malformed event is skipped; the next one carries the full status again
          }
          yield status;
        }
      } catch (error) {
        if (idle.signal.aborted && !options.signal?.aborted) throw this.#silent(what);
        throw error;
      }
    } finally {
      clearTimeout(timer);
      idle.abort();
    }
  }

  #silent(what: string): FalApiError {
    return new FalApiError(
      `${what}: the status stream sent nothing for ${this.#streamIdleMs} ms`,
      { falStatus: 0 },
    );
  }

  /**
   * Fetches a completed job's result: exactly what the model returned, or, when it is over
   * `options.maxBytes`, its media URLs and a note that the rest was cut (see `bounded_result.ts`).
   */
  async result(
    endpointId: string,
    requestId: string,
    options: { signal?: AbortSignal; maxBytes?: number | undefined } = {},
  ): Promise<unknown> {
    const id = parseEndpointId(endpointId);
    const response = await this.#send({
      method: "GET",
      url: this.#requestUrl(id, requestId),
      what: `Cannot fetch the result of ${id.full} request ${requestId}`,
      retry: "read",
      auth: "required",
      signal: options.signal,
    });
    return await readBoundedResult(response, options.maxBytes ?? Infinity);
  }

  /** Asks fal to cancel a job; answers what fal said. */
  async cancel(endpointId: string, requestId: string): Promise<CancelOutcome> {
    const id = parseEndpointId(endpointId);
    const body = await this.#call({
      method: "PUT",
      url: `${this.#requestUrl(id, requestId)}/cancel`,
      what: `Cannot cancel ${id.app} request ${requestId}`,
      retry: "read",
      auth: "required",
      accept: [400, 404],
    }) as { status?: string } | undefined;
    const status = body?.status;
    return status === "ALREADY_COMPLETED" || status === "NOT_FOUND"
      ? status
      : "CANCELLATION_REQUESTED";
  }

  /** Runs a model synchronously (fal.run) and answers its output. */
  async run(
    endpointId: string,
    input: unknown,
    options: { signal?: AbortSignal } = {},
  ): Promise<unknown> {
    const id = parseEndpointId(endpointId);
    return await this.#call({
      method: "POST",
      url: `${this.#hosts.run}/${id.full}`,
      what: `Cannot run ${id.full}`,
      retry: "write",
      auth: "required",
      body: input,
      signal: options.signal,
    });
  }

  /** Lists models of the platform catalogue (no key needed). */
  async listModels(query: ModelsQuery = {}, signal?: AbortSignal): Promise<ModelsPage> {
    const params = new URLSearchParams();
    if (query.q) params.set("q", query.q);
    if (query.category) params.set("category", query.category);
    if (query.status) params.set("status", query.status);
    for (const endpointId of query.endpointIds ?? []) params.append("endpoint_id", endpointId);
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    if (query.cursor) params.set("cursor", query.cursor);
    if (query.expandOpenApi) params.set("expand", "openapi-3.0");
    const search = params.size ? `?${params}` : "";
    const body = await this.#call({
      method: "GET",
      url: `${this.#hosts.api}/v1/models${search}`,
      what: "Cannot list fal models",
      retry: "read",
      auth: "optional",
      signal,
    }) as Partial<ModelsPage> | undefined;
    return {
      models: Array.isArray(body?.models) ? body.models : [],
      next_cursor: body?.next_cursor ?? null,
      has_more: body?.has_more ?? false,
    };
  }

  #requestUrl(id: EndpointId, requestId: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(requestId)) {
      throw new FalApiError(`Invalid fal request id "${requestId}"`, { falStatus: 400 });
    }
    return `${this.#hosts.queue}/${id.app}/requests/${requestId}`;
  }

  /**
   * Sends one call with auth, retries and fal error mapping; answers the parsed JSON body (or
   * text). For modules that speak other fal APIs (storage, pricing) through the same rules.
   */
  async request(spec: FalRequest): Promise<unknown> {
    return await this.#call(spec);
  }

  /** Like {@linkcode FalClient.request}, but answers the raw response (for streams). */
  async requestRaw(spec: FalRequest): Promise<Response> {
    return await this.#send(spec);
  }

  async #call(spec: CallSpec): Promise<unknown> {
    const response = await this.#send(spec);
    return await readBody(response);
  }

  /** Which fal API a URL belongs to (a bounded metrics label). */
  #apiOf(url: string): string {
    for (const [api, base] of Object.entries(this.#hosts)) {
      if (url.startsWith(`${base}/`)) return api;
    }
    return "upload";
  }

  /** Sends a call inside a span, counting it by API, method and outcome. */
  async #send(spec: CallSpec): Promise<Response> {
    const api = this.#apiOf(spec.url);
    const started = performance.now();
    let status = "error";
    try {
      const response = await withSpan(`fal ${spec.method} ${api}`, {
        "fal.api": api,
        "http.request.method": spec.method,
      }, () => this.#sendWithRetries(spec));
      status = String(response.status);
      return response;
    } catch (error) {
      if (error instanceof FalApiError && error.falStatus) status = String(error.falStatus);
      this.#metrics?.inc("fal_mcp_fal_errors_total", "fal calls that failed, by API", { api });
      throw error;
    } finally {
      this.#metrics?.inc("fal_mcp_fal_requests_total", "fal calls by API, method and status", {
        api,
        method: spec.method,
        status,
      });
      this.#metrics?.observe(
        "fal_mcp_fal_request_duration_seconds",
        "fal call duration by API",
        { api },
        (performance.now() - started) / 1000,
      );
    }
  }

  /** Sends a call with auth and retries; answers the response of an accepted status. */
  async #sendWithRetries(spec: CallSpec): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", ...spec.headers };
    if (spec.auth !== "none" && this.#key !== undefined) headers.authorization = `Key ${this.#key}`;
    else if (spec.auth === "required") throw new MissingFalKeyError(this.#missingKeyMessage);
    if (spec.body !== undefined) headers["content-type"] = "application/json";
    const payload = spec.body === undefined ? spec.rawBody : JSON.stringify(spec.body);
    // A streamed body can be sent once only.
    const replayable = !(payload instanceof ReadableStream);

    for (let attempt = 1;; attempt++) {
      let response: Response;
      try {
        response = await this.#fetch(spec.url, {
          method: spec.method,
          headers,
          body: payload ?? null,
          signal: spec.signal ?? null,
        });
      } catch (error) {
        if (spec.signal?.aborted) throw spec.signal.reason;
        // A write that failed in flight may have been accepted: never resend it (a submit is
        // resent, as fal's own clients do: its record is written ahead and settled later).
        if (
          spec.retry !== "write" && spec.retry !== "none" && replayable &&
          attempt < this.#maxAttempts
        ) {
          spec.onUnanswered?.();
          await this.#backoff(spec, attempt, undefined, `network error: ${error}`);
          continue;
        }
        throw new FalApiError(`${spec.what}: fal could not be reached (${errorMessage(error)})`, {
          falStatus: 0,
          cause: error,
        });
      }
      if (response.ok || spec.accept?.includes(response.status)) return response;
      if (
        RETRYABLE[spec.retry].has(response.status) && replayable && attempt < this.#maxAttempts
      ) {
        await response.body?.cancel();
        await this.#backoff(spec, attempt, retryAfterMs(response), `HTTP ${response.status}`);
        continue;
      }
      // An error answer is read up to a bound: its size is fal's (or a model's) to choose.
      const body = await readBoundedResult(response, MAX_ERROR_BODY_BYTES);
      const detail = describeFalErrorBody(body) ?? response.statusText;
      const errorType = response.headers.get("x-fal-error-type") ??
        (body as { error_type?: string } | undefined)?.error_type;
      if ((response.status === 401 || response.status === 403) && headers.authorization) {
        // The key is the problem, whatever the step was: say so, not "Cannot list models".
        throw new FalKeyRejectedError({
          falStatus: response.status,
          detail,
          hint: this.#rejectedKeyHint,
          ...(errorType ? { errorType } : {}),
          body,
        });
      }
      throw new FalApiError(`${spec.what}: fal answered ${response.status}: ${detail}`, {
        falStatus: response.status,
        errorType,
        body,
        falRequestId: response.headers.get("x-fal-request-id") ?? undefined,
      });
    }
  }

  async #backoff(
    spec: CallSpec,
    attempt: number,
    retryAfter: number | undefined,
    reason: string,
  ): Promise<void> {
    const exponential = this.#retryBaseMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
    const delay = Math.min(retryAfter ?? exponential, 30_000);
    this.#log.warn("fal call retried", { what: spec.what, reason, attempt, delay_ms: delay });
    await sleep(delay, spec.signal);
  }
}
