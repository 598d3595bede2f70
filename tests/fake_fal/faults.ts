/**
 * Transport-level failures on demand, for tests of a client's retry and fallback logic. A rule
 * matches requests by a named target (or method + path pattern) and, for its next `times`
 * matching requests, answers one of:
 *
 * - `429`: fal's rate limit, with `Retry-After: <retryAfter>` (seconds, default 1);
 * - `500`/`502`/`503`/`504`: fal's error shape for the host — `{"detail","error_type"}` plus
 *   `X-Fal-Error-Type` on the inference hosts (500 `internal_error`, 503
 *   `runner_scheduling_failure`, 504 `request_timeout`; a 502 is a bare gateway error without a
 *   type), `{"error":{"type":"server_error","message"}}` on the platform API;
 * - `405`: `Method Not Allowed` (as a proxy that does not pass streams might answer);
 * - `"drop_stream"`: the real status stream, cut after `events` events (default 1) and never
 *   carrying COMPLETED, so the client has to fall back to polling;
 * - `"silent_stream"`: a `text/event-stream` that stays open and sends nothing at all (not even
 *   a ping), so the client has to notice the silence and poll;
 * - `"delay_answer"`: the request is served as usual (a submit is accepted, its job runs) but the
 *   answer is held back for `delayMs` (the window in which a client that dies loses the id).
 *
 * Faults answer before auth and routing, like a gateway in front of fal would. Each rule counts
 * how often it fired.
 *
 * @example Two 503s on status reads, then normal answers
 * ```ts
 * import { startFakeFal } from "./server.ts";
 *
 * const fake = await startFakeFal();
 * const fault = fake.injectFault({ match: "status", respond: 503, times: 2 });
 * // … run a job: its first two status reads are answered 503, and `fault.fired` becomes 2 …
 * await fake.close();
 * ```
 *
 * @module
 */

import { detail, json, platformError } from "./http.ts";

/** Named request kinds a fault can target (paths as the fake serves them). */
export type FaultTarget =
  /** `POST /queue/{endpoint}`. */
  | "submit"
  /** `GET /queue/{app}/requests/{id}/status`. */
  | "status"
  /** `GET /queue/{app}/requests/{id}/status/stream`. */
  | "status_stream"
  /** `GET /queue/{app}/requests/{id}`. */
  | "result"
  /** `PUT /queue/{app}/requests/{id}/cancel`. */
  | "cancel"
  /** `POST /run/{endpoint}` (and `/stream`). */
  | "run"
  /** `GET /api/v1/models`. */
  | "models"
  /** `GET /api/v1/models/pricing`. */
  | "pricing"
  /** `POST /api/v1/models/pricing/estimate`. */
  | "estimate"
  /** `GET /api/v1/models/usage`. */
  | "usage"
  /** `GET /api/v1/models/requests/by-endpoint`. */
  | "requests"
  /** Anything under `/rest/storage/upload/`. */
  | "upload";

/** Which requests a rule applies to: a named target, or a method and a path pattern. */
export type FaultMatch = FaultTarget | {
  /** HTTP method (any when omitted). */
  method?: string;
  /** Tested against the URL path, e.g. `/queue/fal-ai/flux/dev`. */
  path: RegExp;
};

/** A fault to inject. */
export interface FaultRule {
  /** Which requests it applies to. */
  match: FaultMatch;
  /** What to answer. `drop_stream` only applies to status streams. */
  respond:
    | 405
    | 429
    | 500
    | 502
    | 503
    | 504
    | "drop_stream"
    | "silent_stream"
    | "delay_answer";
  /** How long a `delay_answer` holds the answer back, in ms (default 60 000). */
  delayMs?: number;
  /** How many matching requests it answers (default 1; `Infinity` for all). */
  times?: number;
  /** `Retry-After` seconds of a 429 (default 1; 0 allowed). */
  retryAfter?: number;
  /** `error_type` / `X-Fal-Error-Type` of a 5xx on the inference hosts, instead of the default. */
  errorType?: string;
  /** Error message instead of the default. */
  message?: string;
  /** Events a dropped stream sends before closing (default 1). */
  events?: number;
}

/** A rule in force: its settings and how often it fired. */
export interface InjectedFault {
  /** The rule as given. */
  readonly rule: Readonly<FaultRule>;
  /** How many requests it answered so far. */
  readonly fired: number;
  /** How many more it will answer. */
  readonly remaining: number;
}

const TARGETS: Record<FaultTarget, (method: string, path: string) => boolean> = {
  submit: (m, p) => m === "POST" && p.startsWith("/queue/") && !p.includes("/requests/"),
  status: (m, p) => m === "GET" && /^\/queue\/.+\/requests\/[^/]+\/status$/.test(p),
  status_stream: (m, p) => m === "GET" && /^\/queue\/.+\/requests\/[^/]+\/status\/stream$/.test(p),
  result: (m, p) => m === "GET" && /^\/queue\/.+\/requests\/[^/]+$/.test(p),
  cancel: (m, p) => m === "PUT" && /^\/queue\/.+\/requests\/[^/]+\/cancel$/.test(p),
  run: (m, p) => m === "POST" && p.startsWith("/run/"),
  models: (m, p) => m === "GET" && /^\/api\/v1\/models\/?$/.test(p),
  pricing: (m, p) => m === "GET" && /^\/api\/v1\/models\/pricing\/?$/.test(p),
  estimate: (m, p) => m === "POST" && /^\/api\/v1\/models\/pricing\/estimate\/?$/.test(p),
  usage: (m, p) => m === "GET" && /^\/api\/v1\/models\/usage\/?$/.test(p),
  requests: (m, p) => m === "GET" && /^\/api\/v1\/models\/requests\/by-endpoint\/?$/.test(p),
  upload: (_m, p) => p.startsWith("/rest/storage/upload/"),
};

const DEFAULT_TYPES: Record<number, string | undefined> = {
  500: "internal_error",
  503: "runner_scheduling_failure",
  504: "request_timeout",
};

const DEFAULT_MESSAGES: Record<number, string> = {
  405: "Method Not Allowed",
  429: "Rate limit exceeded: too many concurrent requests. Retry later.",
  500: "Internal error",
  502: "Bad Gateway",
  503: "No runner could be allocated to the request",
  504: "Request timed out",
};

class Fault implements InjectedFault {
  fired = 0;
  constructor(readonly rule: Readonly<FaultRule>) {}
  get remaining(): number {
    return Math.max(0, (this.rule.times ?? 1) - this.fired);
  }
  matches(method: string, path: string): boolean {
    const match = this.rule.match;
    if (typeof match === "string") return TARGETS[match](method, path);
    return (match.method === undefined || match.method.toUpperCase() === method) &&
      match.path.test(path);
  }
}

function validate(rule: FaultRule): void {
  const problem = (message: string) =>
    new RangeError(`Cannot inject the fault ${JSON.stringify(rule)}: ${message}`);
  const times = rule.times ?? 1;
  if (!(times >= 1) || (Number.isFinite(times) && !Number.isInteger(times))) {
    throw problem("times must be an integer >= 1 or Infinity");
  }
  if (typeof rule.match === "string" && !(rule.match in TARGETS)) {
    throw problem(`unknown target; one of ${Object.keys(TARGETS).join(", ")}`);
  }
  if (rule.respond === "drop_stream") {
    const events = rule.events ?? 1;
    if (!Number.isInteger(events) || events < 0) throw problem("events must be an integer >= 0");
  } else if (
    rule.respond !== "silent_stream" && rule.respond !== "delay_answer" &&
    ![405, 429, 500, 502, 503, 504].includes(rule.respond)
  ) {
    throw problem(
      "respond must be 405, 429, 500, 502, 503, 504, drop_stream, silent_stream or delay_answer",
    );
  }
  if (rule.delayMs !== undefined && !(rule.delayMs >= 0)) {
    throw problem("delayMs must be a number of milliseconds >= 0");
  }
  if (rule.retryAfter !== undefined && !(rule.retryAfter >= 0)) {
    throw problem("retryAfter must be a number of seconds >= 0");
  }
}

/** The rules of one fake, in the order they were added; the first matching live rule fires. */
export class FaultTable {
  readonly #rules: Fault[] = [];

  /** Every rule added so far (spent ones too), with its counts. */
  get all(): readonly InjectedFault[] {
    return [...this.#rules];
  }

  /** Adds a rule; throws a RangeError when it is invalid. */
  add(rule: FaultRule): InjectedFault {
    validate(rule);
    const fault = new Fault({ ...rule });
    this.#rules.push(fault);
    return fault;
  }

  /** Removes every rule. */
  clear(): void {
    this.#rules.length = 0;
  }

  /** The first live rule matching the request, counted as fired; undefined when none. */
  take(method: string, path: string): InjectedFault | undefined {
    const fault = this.#rules.find((f) => f.remaining > 0 && f.matches(method, path));
    if (fault) fault.fired++;
    return fault;
  }
}

/** The response of an HTTP-status fault (`respond` is a number) for a request to `path`. */
export function faultResponse(rule: Readonly<FaultRule>, path: string): Response {
  const status = rule.respond as number;
  const message = rule.message ?? DEFAULT_MESSAGES[status] ?? "Error";
  const platform = path.startsWith("/api/");
  if (status === 429) {
    const headers = { "retry-after": String(rule.retryAfter ?? 1) };
    const response = platform
      ? platformError(429, "rate_limited", message)
      : detail(429, message, headers);
    if (platform) response.headers.set("retry-after", headers["retry-after"]);
    return response;
  }
  if (status === 405) {
    return platform
      ? platformError(405, "validation_error", message)
      : detail(405, message, { allow: "GET" });
  }
  if (platform) return platformError(status, "server_error", message);
  const type = rule.errorType ?? DEFAULT_TYPES[status];
  if (type === undefined) return detail(status, message);
  return json({ detail: message, error_type: type }, status, { "x-fal-error-type": type });
}

const encoder = new TextEncoder();

/**
 * Passes at most `events` data events of a status stream through, then closes it; a COMPLETED
 * event is never passed, so the stream always ends early. Non-SSE responses pass unchanged.
 */
export function dropStreamAfter(response: Response, events: number): Response {
  const type = response.headers.get("content-type") ?? "";
  if (!response.body || !type.startsWith("text/event-stream")) return response;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (true) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const frame = buffer.slice(0, end + 2);
          buffer = buffer.slice(end + 2);
          const data = frame.split("\n").find((line) => line.startsWith("data:"));
          if (data === undefined) {
            controller.enqueue(encoder.encode(frame)); // a `: ping` comment
            return;
          }
          let completed = false;
          try {
            completed = JSON.parse(data.slice(5)).status === "COMPLETED";
          } catch {
            // not a status object: pass it like any other event
          }
          if (sent >= events || completed) break;
          sent++;
          controller.enqueue(encoder.encode(frame));
          if (sent < events) return;
          break;
        }
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
      }
      controller.close();
      await reader.cancel().catch(() => {});
    },
    async cancel() {
      await reader.cancel().catch(() => {});
    },
  });
  return new Response(stream, { status: response.status, headers: response.headers });
}

/** A `text/event-stream` that sends nothing until the client leaves or the fake closes. */
export function silentStream(clientGone: AbortSignal, closing: AbortSignal): Response {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const end = () => {
        try {
          controller.close();
        } catch {
          // already closed or cancelled
        }
      };
      clientGone.addEventListener("abort", end, { once: true });
      closing.addEventListener("abort", end, { once: true });
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}
