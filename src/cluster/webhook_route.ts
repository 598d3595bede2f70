/**
 * `POST /fal/webhook`: fal's delivery of a job's outcome. Whichever instance receives it verifies
 * fal's signature, settles the job in the shared store (idempotently: a replay or a late retry of
 * a finished job changes nothing) and so wakes every waiter on every instance.
 *
 * @module
 */

import type { WebhookVerifier } from "../fal/webhook.ts";
import type { JobManager } from "../jobs/manager.ts";
import type { Logger } from "../log.ts";

/** Largest webhook body accepted (results are links; fal's payloads are small). */
const MAX_WEBHOOK_BYTES = 8 * 1024 * 1024;

function answer(status: number, body: Record<string, unknown>): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

/** Builds the handler of `/fal/webhook`. */
export function falWebhookHandler(
  verifier: WebhookVerifier,
  jobs: JobManager,
  logger: Logger,
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== "POST") {
      return new Response("Method Not Allowed", { status: 405, headers: { allow: "POST" } });
    }
    const declared = Number(request.headers.get("content-length") ?? "0");
    if (declared > MAX_WEBHOOK_BYTES) return answer(413, { error: "webhook body too large" });
    const raw = new Uint8Array(await request.arrayBuffer());
    if (raw.byteLength > MAX_WEBHOOK_BYTES) return answer(413, { error: "webhook body too large" });
    const verdict = await verifier.verify(request.headers, raw);
    if (!verdict.ok) {
      logger.warn("fal webhook refused", { reason: verdict.reason });
      return answer(401, { error: `webhook refused: ${verdict.reason}` });
    }
    const { body, requestId } = verdict;
    const ok = body.status === "OK";
    if (ok && (body.payload === null || body.payload === undefined)) {
      // fal could not serialize the result: the job's follower fetches it instead.
      return answer(200, { received: true, changed: false });
    }
    const error = ok
      ? undefined
      : String(body.error ?? body.payload_error ?? "fal reported an error");
    try {
      const changed = await jobs.settleFromWebhook(requestId, { ok, payload: body.payload, error });
      logger.info("fal webhook received", { job_id: requestId, status: body.status, changed });
      return answer(200, { received: true, changed });
    } catch (failure) {
      // fal retries failed deliveries; the job's follower settles it meanwhile anyway.
      logger.warn("fal webhook not applied; fal will retry", { job_id: requestId, error: failure });
      return answer(503, { error: "job store unavailable; retry" });
    }
  };
}
