/**
 * Small HTTP helpers shared by the fake fal handlers: JSON answers in fal's error shapes, body
 * reading with a memory cap, SSE framing and abortable sleeps.
 *
 * @module
 */

/** Answers `body` as JSON. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** fal's inference-host error shape: `{"detail": …}`. */
export function detail(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): Response {
  return json({ detail: value }, status, headers);
}

/** fal's platform API (`api.fal.ai`) error types. */
export type PlatformErrorType =
  | "validation_error"
  | "not_found"
  | "rate_limited"
  | "authorization_error"
  | "server_error";

/** fal's platform API error shape: `{"error":{"type","message"}}`. */
export function platformError(status: number, type: PlatformErrorType, message: string): Response {
  return json({ error: { type, message } }, status);
}

/** 404 for paths nothing serves. */
export function notFound(): Response {
  return detail(404, "Not Found");
}

/** 405 for a known path called with the wrong method. */
export function methodNotAllowed(allowed: readonly string[]): Response {
  return detail(405, "Method Not Allowed", { allow: allowed.join(", ") });
}

/** Result of {@linkcode readJson}. */
export type JsonBody = { ok: true; value: unknown } | { ok: false; message: string };

/** Reads a JSON body; an empty body reads as `{}`. */
export async function readJson(req: Request): Promise<JsonBody> {
  const text = await req.text();
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

/** Bytes of a streamed request body: the first `keep` bytes, and the total size. */
export interface CappedBody {
  /** The kept prefix of the body. */
  bytes: Uint8Array<ArrayBuffer>;
  /** Total size of the body in bytes. */
  size: number;
}

/** Streams a request body, keeping at most `keep` bytes in memory and counting the rest. */
export async function readBodyCapped(req: Request, keep: number): Promise<CappedBody> {
  if (!req.body) return { bytes: new Uint8Array(0), size: 0 };
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.length;
    if (kept < keep) {
      const part = chunk.length <= keep - kept ? chunk : chunk.subarray(0, keep - kept);
      chunks.push(part);
      kept += part.length;
    }
  }
  const bytes = new Uint8Array(kept);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return { bytes, size };
}

/** Response headers of every SSE stream. */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
};

const encoder = new TextEncoder();

/** Encodes one SSE event carrying `data` as JSON (one `data:` line). */
export function sseData(data: unknown, event?: string): Uint8Array<ArrayBuffer> {
  const head = event ? `event: ${event}\n` : "";
  return encoder.encode(`${head}data: ${JSON.stringify(data)}\n\n`);
}

/** The SSE keep-alive comment. */
export const SSE_PING: Uint8Array<ArrayBuffer> = encoder.encode(": ping\n\n");

/** Resolves after `ms`, or rejects with the signal's reason when any signal aborts first. */
export function sleep(ms: number, ...signals: AbortSignal[]): Promise<void> {
  const signal = AbortSignal.any(signals);
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Whether `value` is a plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
