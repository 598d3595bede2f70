/**
 * Completion to result: how long after the fake fal completes a job its result reaches the MCP
 * client, for one job alone and for many jobs finishing at the same moment. The fake runs in a
 * process of its own (rendering a result image is fal's work, not ours), and tells when each job
 * completed through its request listing (`ended_at`, as fal's platform API does).
 *
 * @module
 */

import type { BenchServer } from "./lib/process.ts";
import { streamedCall } from "./lib/mcp_call.ts";
import { median } from "./throughput.ts";

let batch = 0;

const ENDPOINT = "fal-ai/flux/schnell";

/** When the fake fal at `falOrigin` completed request `requestId` (ms since the epoch). */
async function completedAt(falOrigin: string, requestId: string): Promise<number> {
  const url = new URL(`${falOrigin}/api/v1/models/requests/by-endpoint`);
  url.searchParams.set("endpoint_id", ENDPOINT);
  url.searchParams.set("request_id", requestId);
  const response = await fetch(url, { headers: { authorization: "Key bench-key" } });
  const body = await response.json() as { items?: { ended_at?: string }[] };
  const ended = body.items?.[0]?.ended_at;
  if (!response.ok || !ended) throw new Error(`the fake fal has no completion for ${requestId}`);
  return Date.parse(ended);
}

/** Median completion → result latency (ms) of `jobs` calls whose jobs finish together. */
export async function completionLatency(
  server: BenchServer,
  falOrigin: string,
  jobs: number,
  durationMs = 1500,
  input: Record<string, unknown> = {},
): Promise<{ p50_ms: number; max_ms: number }> {
  const tag = `batch-${batch++}`;
  const outcomes = await Promise.all(
    Array.from({ length: jobs }, (_, i) =>
      streamedCall(server.origin, "run_model", {
        endpoint_id: ENDPOINT,
        input: { ...input, prompt: `${tag} ${i}`, fake_duration_ms: durationMs },
        validate: false,
      })),
  );
  const latencies = await Promise.all(outcomes.map(async (outcome) => {
    const result = outcome.message.result as { structuredContent?: { job_id?: string } };
    const id = result?.structuredContent?.job_id;
    if (!id) throw new Error(`run_model answered without a job id: ${JSON.stringify(outcome)}`);
    return outcome.resultAt - await completedAt(falOrigin, id);
  }));
  return { p50_ms: median(latencies), max_ms: Math.max(...latencies) };
}
