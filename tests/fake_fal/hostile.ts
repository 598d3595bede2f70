/**
 * Hostile results on demand: a model's output is data a server must not trust. Test hooks in the
 * submitted input (ignored by the schemas, as extra fields are):
 *
 * - `fake_output` (object): the job's output, verbatim, instead of what the model would render
 *   (URLs pointing anywhere, hundreds of images…);
 * - `fake_output_bytes` (number): the output is padded with a filler field to about that many
 *   bytes, streamed without ever being held whole (a huge result).
 *
 * And `GET {origin}/redirect?to=URL` answers `302 Location: URL`, for a result whose media URL
 * is on the fake's origin but redirects somewhere else.
 *
 * @module
 */

import type { Outcome } from "./failures.ts";
import { isObject, json } from "./http.ts";

/** A result body too large to hold: `base` plus a filler field, streamed to `bytes` bytes. */
export class PaddedBody {
  /** Creates the body. */
  constructor(readonly base: Record<string, unknown>, readonly bytes: number) {}

  /** A short stand-in where the body is shown (webhooks, logs). */
  toJSON(): unknown {
    return { ...this.base, padding: `(${this.bytes} bytes)` };
  }
}

/** The outcome the hooks ask for, given what the model would have answered. */
export function hostileOutcome(input: Record<string, unknown>, produced: Outcome): Outcome {
  let outcome = produced;
  if (isObject(input.fake_output)) {
    outcome = { status: 200, body: input.fake_output, headers: {}, units: produced.units };
  }
  const bytes = input.fake_output_bytes;
  if (typeof bytes === "number" && bytes > 0 && outcome.status < 400 && isObject(outcome.body)) {
    outcome = { ...outcome, body: new PaddedBody(outcome.body, Math.floor(bytes)) };
  }
  return outcome;
}

const encoder = new TextEncoder();
const CHUNK = 64 * 1024;

/** The HTTP answer for a result body: a streamed one for a {@linkcode PaddedBody}. */
export function resultResponse(
  body: unknown,
  status: number,
  headers: Record<string, string>,
): Response {
  if (!(body instanceof PaddedBody)) return json(body, status, headers);
  const head = encoder.encode(`${JSON.stringify(body.base).slice(0, -1)},"padding":"`);
  const tail = encoder.encode(`"}`);
  const filler = encoder.encode("x".repeat(CHUNK));
  let left = Math.max(0, body.bytes - head.length - tail.length);
  let sentHead = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sentHead) {
        sentHead = true;
        controller.enqueue(head);
        return;
      }
      if (left > 0) {
        const n = Math.min(left, CHUNK);
        left -= n;
        controller.enqueue(n === CHUNK ? filler : filler.subarray(0, n));
        return;
      }
      controller.enqueue(tail);
      controller.close();
    },
  });
  return new Response(stream, {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** `GET {origin}/redirect?to=URL`: a 302 to `URL`. */
export function handleRedirect(req: Request): Response {
  const to = new URL(req.url).searchParams.get("to");
  if (!to) return json({ detail: "to is required" }, 400);
  return new Response(null, { status: 302, headers: { location: to } });
}
