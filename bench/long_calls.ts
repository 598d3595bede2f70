/**
 * Many long calls at once: N `run_model` calls, each following a fal job that runs for
 * `durationMs` with progress flowing, all in flight together. Measures what one more call in
 * flight costs the server: the calls are opened in two halves, and the RSS and open file
 * descriptors of the server are sampled once each half is in flight and settled, so the cost
 * per call is the slope between the two (what a warm server's fixed costs, such as the heap's
 * young generation growing to its working size, do not distort). `/health` latency is probed one
 * request at a time (from a process of its own) while every call is in flight and while the results come back.
 *
 * @module
 */

import { fdCount, rssBytes } from "./lib/process.ts";
import type { BenchServer } from "./lib/process.ts";
import { type CallOutcome, streamedCall } from "./lib/mcp_call.ts";

/** What the long-calls run measured. */
export interface LongCallsReport {
  calls: number;
  duration_ms: number;
  completed: number;
  progress_per_call: number;
  /** RSS of the warm server before the calls. */
  rss_baseline_bytes: number;
  /** RSS with half the calls in flight (most over a one-second window). */
  rss_half_bytes: number;
  /** RSS with every call in flight (most over a one-second window). */
  rss_full_bytes: number;
  /** Highest RSS over the whole run, the burst of results at the end included. */
  rss_peak_with_results_bytes: number;
  /** RSS one more call in flight adds (slope between the halves). */
  rss_per_call_bytes: number;
  fds_baseline: number;
  fds_half: number;
  fds_full: number;
  /** Descriptors one more call in flight adds (slope between the halves). */
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

const PROBE = new URL("./lib/health_probe.ts", import.meta.url).pathname;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Most RSS and fds of `pid` over `ms`, sampled every 100 ms. */
async function sample(pid: number, ms: number): Promise<{ rss: number; fds: number }> {
  let rss = 0;
  let fds = 0;
  for (const end = performance.now() + ms; performance.now() < end;) {
    rss = Math.max(rss, rssBytes(pid));
    fds = Math.max(fds, fdCount(pid));
    await pause(100);
  }
  return { rss, fds };
}

/** Runs `calls` long calls against `server` (whose fal is a fake). */
export async function runLongCalls(
  server: BenchServer,
  calls: number,
  durationMs: number,
): Promise<LongCallsReport> {
  // A warm server: the caller's tools, the code paths and the pools exist before measuring.
  const warm = (i: number) =>
    streamedCall(server.origin, "run_model", {
      endpoint_id: "fal-ai/flux/schnell",
      input: { prompt: `warm ${i}`, fake_duration_ms: 200 },
      validate: false,
    });
  await Promise.all([0, 1, 2, 3].map(warm));
  await pause(1000);
  const baseline = await sample(server.pid, 500);
  let opened = 0;
  let running = true;
  let rssPeakAll = 0;
  const watcher = (async () => {
    while (running) {
      rssPeakAll = Math.max(rssPeakAll, rssBytes(server.pid));
      await pause(100);
    }
  })();
  const open = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, k) =>
      streamedCall(server.origin, "run_model", {
        endpoint_id: "fal-ai/flux/schnell",
        input: { prompt: `bench ${from + k}`, fake_duration_ms: durationMs },
        validate: false,
      }, () => opened++));
  const settle = async (count: number) => {
    while (opened < count) await pause(50);
    await pause(1000);
  };
  const half = Math.floor(calls / 2);
  const pending: Promise<CallOutcome>[] = open(0, half);
  await settle(half);
  const atHalf = await sample(server.pid, 1000);
  pending.push(...open(half, calls));
  await settle(calls);
  const prober = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--quiet", PROBE, server.origin],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const atFull = await sample(server.pid, 1000);
  const outcomes = await Promise.allSettled(pending);
  running = false;
  await prober.stdin.close();
  const health = JSON.parse(new TextDecoder().decode((await prober.output()).stdout)) as number[];
  await watcher;
  const good = outcomes.filter((o) =>
    o.status === "fulfilled" && "result" in o.value.message &&
    !(o.value.message.result as { isError?: boolean }).isError
  );
  const progress = outcomes.reduce(
    (sum, o) => sum + (o.status === "fulfilled" ? o.value.progress : 0),
    0,
  );
  const second = calls - half;
  return {
    calls,
    duration_ms: durationMs,
    completed: good.length,
    progress_per_call: progress / calls,
    rss_baseline_bytes: baseline.rss,
    rss_half_bytes: atHalf.rss,
    rss_full_bytes: atFull.rss,
    rss_peak_with_results_bytes: rssPeakAll,
    rss_per_call_bytes: Math.max(0, atFull.rss - atHalf.rss) / second,
    fds_baseline: baseline.fds,
    fds_half: atHalf.fds,
    fds_full: atFull.fds,
    fds_per_call: (atFull.fds - atHalf.fds) / second,
    health_probes: health.length,
    health_p50_ms: percentile(health, 0.5),
    health_p99_ms: percentile(health, 0.99),
  };
}

/**
 * The floor for comparison: RSS and fds one more held SSE response costs bare `Deno.serve`
 * (bench/servers/bare_sse.ts), measured like the calls (two halves, slope).
 */
export async function heldStreamsFloor(
  server: BenchServer,
  streams: number,
): Promise<{ rss_per_stream_bytes: number; fds_per_stream: number }> {
  const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  const open = async (count: number) => {
    for (let i = 0; i < count; i++) {
      const response = await fetch(server.origin, { method: "POST", body: "{}" });
      const reader = response.body!.getReader();
      readers.push(reader);
      (async () => {
        while (!(await reader.read()).done) {
          // drained
        }
      })().catch(() => {});
    }
    await pause(1000);
  };
  try {
    const half = Math.floor(streams / 2);
    await open(half);
    const atHalf = await sample(server.pid, 1000);
    await open(streams - half);
    const atFull = await sample(server.pid, 1000);
    return {
      rss_per_stream_bytes: Math.max(0, atFull.rss - atHalf.rss) / (streams - half),
      fds_per_stream: (atFull.fds - atHalf.fds) / (streams - half),
    };
  } finally {
    await Promise.all(readers.map((r) => r.cancel().catch(() => {})));
  }
}
