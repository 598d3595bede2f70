/**
 * Completion to result: how long after the fake fal completes a job its result reaches the MCP
 * client, for one job alone and for many jobs finishing at the same moment.
 *
 * @module
 */

import type { FakeFal } from "../tests/fake_fal/server.ts";
import type { BenchServer } from "./lib/process.ts";
import { streamedCall } from "./lib/mcp_call.ts";
import { median } from "./throughput.ts";

let batch = 0;

/** Median completion → result latency (ms) of `jobs` calls whose jobs finish together. */
export async function completionLatency(
  server: BenchServer,
  fal: FakeFal,
  jobs: number,
  durationMs = 1500,
): Promise<{ p50_ms: number; max_ms: number }> {
  const tag = `batch-${batch++}`;
  const outcomes = await Promise.all(
    Array.from({ length: jobs }, (_, i) =>
      streamedCall(server.origin, "run_model", {
        endpoint_id: "fal-ai/flux/schnell",
        input: { prompt: `${tag} ${i}`, fake_duration_ms: durationMs },
        validate: false,
      })),
  );
  const latencies = outcomes.map((outcome, i) => {
    const job = [...fal.state.jobs.values()].find((j) => j.input.prompt === `${tag} ${i}`);
    if (!job?.completedAt) throw new Error(`no completed fake job for ${tag} ${i}`);
    return outcome.resultAt - Date.parse(job.completedAt);
  });
  return { p50_ms: median(latencies), max_ms: Math.max(...latencies) };
}
