/**
 * Many long calls at once: N `run_model` calls, each following a fal job that runs for
 * `durationMs` with progress flowing, all in flight together. Measures the server's RSS and
 * open file descriptors at the peak, and `/health` latency (a sequential probe) during the load.
 *
 * @module
 */

import { fdCount, rssBytes } from "./lib/process.ts";
import type { BenchServer } from "./lib/process.ts";
import { streamedCall } from "./lib/mcp_call.ts";

/** What the long-calls run measured. */
export interface LongCallsReport {
  calls: number;
  duration_ms: number;
  completed: number;
  progress_per_call: number;
  rss_baseline_bytes: number;
  rss_peak_bytes: number;
  fds_baseline: number;
  fds_peak: number;
  fds_per_call: number;
  health_probes: number;
  health_p50_ms: number;
  health_p99_ms: number;
}

function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Runs `calls` long calls against `server` (whose fal is a fake). */
export async function runLongCalls(
  server: BenchServer,
  calls: number,
  durationMs: number,
): Promise<LongCallsReport> {
  const rssBaseline = rssBytes(server.pid);
  const fdsBaseline = fdCount(server.pid);
  let opened = 0;
  let rssPeak = rssBaseline;
  let fdsPeak = fdsBaseline;
  let running = true;
  const sampler = (async () => {
    while (running) {
      rssPeak = Math.max(rssPeak, rssBytes(server.pid));
      fdsPeak = Math.max(fdsPeak, fdCount(server.pid));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const health: number[] = [];
  const prober = (async () => {
    while (running) {
      if (opened >= calls) {
        const started = performance.now();
        const response = await fetch(`${server.origin}/health`);
        await response.body?.cancel();
        health.push(performance.now() - started);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const outcomes = await Promise.allSettled(
    Array.from({ length: calls }, (_, i) =>
      streamedCall(server.origin, "run_model", {
        endpoint_id: "fal-ai/flux/schnell",
        input: { prompt: `bench ${i}`, fake_duration_ms: durationMs },
        validate: false,
      }, () => opened++)),
  );
  running = false;
  await Promise.all([sampler, prober]);
  const good = outcomes.filter((o) =>
    o.status === "fulfilled" && "result" in o.value.message &&
    !(o.value.message.result as { isError?: boolean }).isError
  );
  const progress = outcomes.reduce(
    (sum, o) => sum + (o.status === "fulfilled" ? o.value.progress : 0),
    0,
  );
  return {
    calls,
    duration_ms: durationMs,
    completed: good.length,
    progress_per_call: progress / calls,
    rss_baseline_bytes: rssBaseline,
    rss_peak_bytes: rssPeak,
    fds_baseline: fdsBaseline,
    fds_peak: fdsPeak,
    fds_per_call: (fdsPeak - fdsBaseline) / calls,
    health_probes: health.length,
    health_p50_ms: percentile(health, 0.5),
    health_p99_ms: percentile(health, 0.99),
  };
}
