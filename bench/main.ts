/**
 * `deno task bench`: fal-mcp measured side by side with bare `Deno.serve`, tmcp and the official
 * SDK v2, in one interleaved run on this machine, reported as ratios. Prints one table and
 * writes it to `docs/performance.md` with the machine and load it ran on.
 *
 * ```sh
 * deno task bench                               # about two minutes
 * deno task bench --long-calls 10000 --long-ms 60000   # the full concurrency figure, by hand
 * deno task bench --only throughput --no-write  # one section, nothing written
 * ```
 *
 * Needs `wrk` (Debian: `apt-get install -y wrk`). All load goes to 127.0.0.1; every server is a
 * process of its own, started and stopped here.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startFakeFal } from "../tests/fake_fal/server.ts";
import { buildBundle, coldStart } from "./cold_start.ts";
import { clusterScenarios, startClusterServers } from "./cluster.ts";
import { completionLatency } from "./completion.ts";
import { hasWrk } from "./lib/wrk.ts";
import { type BenchServer, startFakeFalProcess, startFalMcp, startScript } from "./lib/process.ts";
import { heldStreamsFloor, type LongCallsReport, runLongCalls } from "./long_calls.ts";
import { median, runThroughput, scenariosFor } from "./throughput.ts";

const SECTIONS = ["throughput", "cluster", "long", "cold", "completion"] as const;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "3" },
    connections: { type: "string", default: "16" },
    threads: { type: "string", default: "2" },
    "long-calls": { type: "string", default: "200" },
    "long-ms": { type: "string", default: "12000" },
    "cold-rounds": { type: "string", default: "5" },
    "cluster-size": { type: "string", default: "3" },
    only: { type: "string" },
    "no-write": { type: "boolean", default: false },
  },
  strict: true,
});

function whole(name: keyof typeof values): number {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--${name} must be a whole number ≥ 1`);
  return n;
}

const options = {
  rounds: whole("rounds"),
  seconds: whole("seconds"),
  connections: whole("connections"),
  threads: whole("threads"),
};
const longCalls = whole("long-calls");
const longMs = whole("long-ms");
const only = new Set(values.only ? values.only.split(",") : SECTIONS);
for (const name of only) {
  if (!SECTIONS.includes(name as typeof SECTIONS[number])) {
    throw new RangeError(`--only takes ${SECTIONS.join(", ")}; got ${name}`);
  }
}

/** One row of the table. */
interface Row {
  measure: string;
  ours: string;
  reference: string;
  ratio: string;
  target: string;
  met: string;
}

const rows: Row[] = [];
const notes: string[] = [];
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mib = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;
const verdict = (ok: boolean, short: string) => ok ? "yes" : `no (${short})`;

function log(message: string): void {
  console.error(`[bench] ${message}`);
}

const loadBefore = Deno.loadavg();
const startedAt = new Date();
const fal = await startFakeFal({ pingIntervalMs: 5000 });
const servers: BenchServer[] = [];
try {
  if (only.has("throughput")) {
    if (!(await hasWrk())) throw new Error("wrk is not installed: apt-get install -y wrk");
    log("starting servers for throughput");
    const [bare, falMcp, tmcp, sdk] = await Promise.all([
      startScript("bench/servers/bare.ts"),
      startFalMcp(fal.url),
      startScript("bench/servers/tmcp_echo.ts"),
      startScript("bench/servers/sdk_echo.ts"),
    ]);
    servers.push(bare, falMcp, tmcp, sdk);
    const scenarios = await scenariosFor({ bare, falMcp, tmcp, sdk });
    const measured = await runThroughput(scenarios, options, (round, values) =>
      log(
        `round ${round + 1}: ${
          scenarios.map((s, i) =>
            `${s.name} ${fmt(values[i]!.rps)}/s ${fmt(values[i]!.cpuMicrosPerRequest)} µs`
          ).join(", ")
        }`,
      ));
    const index = (name: string) => scenarios.findIndex((s) => s.name === name);
    const col = (name: string) => measured.map((round) => round[index(name)]!.rps);
    const cpu = (name: string) => measured.map((round) => round[index(name)]!.cpuMicrosPerRequest);
    const med = (name: string) => median(col(name));
    const ratio = (a: string, b: string) => median(col(a).map((x, i) => x / col(b)[i]!));
    /** Requests per CPU second, ours over theirs: steadier than req/s on a shared machine. */
    const cpuRatio = (a: string, b: string) => median(cpu(b).map((x, i) => x / cpu(a)[i]!));
    const cell = (name: string) => `${fmt(med(name))} req/s, ${fmt(median(cpu(name)))} µs CPU/req`;
    const throughputRow = (measure: string, a: string, b: string, target: number) => {
      const r = ratio(a, b);
      const c = cpuRatio(a, b);
      rows.push({
        measure,
        ours: cell(a),
        reference: cell(b),
        ratio: `${fmt(r, 2)}× (per CPU: ${fmt(c, 2)}×)`,
        target: `≥ ${target}×`,
        met: verdict(
          r >= target,
          `${fmt((r / target) * 100)}% of target; per CPU ${fmt((c / target) * 100)}%`,
        ),
      });
    };
    throughputRow("tools/call 2026 stateless vs bare Deno.serve", "fal_call_2026", "bare", 0.25);
    throughputRow("tools/call 2026 stateless vs tmcp echo", "fal_call_2026", "tmcp_call", 1.5);
    throughputRow(
      "tools/list 2026 (all tools) vs tmcp tools/list",
      "fal_list_2026",
      "tmcp_list",
      1,
    );
    throughputRow("tools/call 2025 session vs tmcp echo", "fal_call_session", "tmcp_call", 1.5);
    rows.push({
      measure: "(for scale) SDK v2 echo, createMcpHandler, vs tmcp echo",
      ours: cell("sdk_call_2026"),
      reference: cell("tmcp_call"),
      ratio: `${fmt(ratio("sdk_call_2026", "tmcp_call"), 2)}× (per CPU: ${
        fmt(cpuRatio("sdk_call_2026", "tmcp_call"), 2)
      }×)`,
      target: "—",
      met: "—",
    });
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  }

  if (only.has("cluster")) {
    if (!(await hasWrk())) throw new Error("wrk is not installed: apt-get install -y wrk");
    const size = whole("cluster-size");
    log(`cluster: ${size} instances on Redis behind nginx, and one instance`);
    const cluster = await startClusterServers(fal.url, size);
    try {
      const scenarios = clusterScenarios(cluster);
      const measured = await runThroughput(scenarios, options, (round, values) =>
        log(
          `round ${round + 1}: ${
            scenarios.map((s, i) => `${s.name} ${fmt(values[i]!.rps)}/s`).join(", ")
          }`,
        ));
      const rps = (i: number) => measured.map((round) => round[i]!.rps);
      const cpu = (i: number) => measured.map((round) => round[i]!.cpuMicrosPerRequest);
      const ratio = median(rps(1).map((x, i) => x / rps(0)[i]!));
      const cell = (i: number) => `${fmt(median(rps(i)))} req/s, ${fmt(median(cpu(i)))} µs CPU/req`;
      rows.push({
        measure:
          `tools/call 2026 through nginx round-robin, ${size} instances on Redis, vs one instance on Redis`,
        ours: cell(1),
        reference: cell(0),
        ratio: `${fmt(ratio, 2)}×`,
        target: "—",
        met: "—",
      });
      notes.push(
        `Cluster: \`list_jobs\` (read from the Redis job ledger) through nginx (1 worker, HTTP/1.1 ` +
          `keep-alive upstream, no stickiness) in front of ${size} instances sharing one ` +
          "redis-server, against one instance on a redis-server of its own, interleaved; CPU per " +
          `request sums the instances. On this ${navigator.hardwareConcurrency}-core machine ` +
          "the instances, nginx, Redis and wrk share the same cores, so the ratio shows the " +
          "balancer's and the cluster's overhead rather than scale-out.",
      );
    } finally {
      await cluster.stop();
    }
  }

  if (only.has("long")) {
    log(`long calls: ${longCalls} × ${longMs} ms`);
    // The fake fal gets a process of its own here, so the probe's latency is fal-mcp's alone.
    const ownFal = await startFakeFalProcess();
    servers.push(ownFal);
    const falMcp = await startFalMcp(ownFal.origin, [
      "--sync-wait",
      String(Math.ceil(longMs / 1000) + 60),
      "--max-sessions",
      "100000",
    ]);
    servers.push(falMcp);
    const report: LongCallsReport = await runLongCalls(falMcp, longCalls, longMs);
    log(JSON.stringify(report));
    const perCall = report.rss_per_call_bytes;
    const at10k = report.rss_full_bytes + perCall * Math.max(0, 10_000 - report.calls);
    const measured = `${fmt(report.calls)} calls`;
    rows.push({
      measure: `RSS with 10,000 long calls (${measured} measured, per call from the slope)`,
      ours: `${mib(at10k)} (${fmt(perCall / 1024)} KiB/call)`,
      reference: `${mib(report.rss_half_bytes)} at ${fmt(Math.floor(report.calls / 2))}, ${
        mib(report.rss_full_bytes)
      } at ${fmt(report.calls)}`,
      ratio: "—",
      target: "< 1024 MiB",
      met: verdict(at10k < 2 ** 30, `${fmt(at10k / 2 ** 30, 2)}× the cap`),
    });
    // Descriptors at 10,000 calls: those measured plus the slope for each call beyond, per call.
    const fdsAt10k = (report.fds_full - report.fds_baseline +
      report.fds_per_call * Math.max(0, 10_000 - report.calls)) / 10_000;
    rows.push({
      measure: "file descriptors per long call, at 10,000 (slope from the measured calls)",
      ours: `${fmt(fdsAt10k, 2)} (one more call: ${fmt(report.fds_per_call, 2)})`,
      reference: `${report.fds_baseline} → ${report.fds_half} → ${report.fds_full}`,
      ratio: "—",
      target: "≤ 1.2",
      met: verdict(fdsAt10k <= 1.2, `${fmt(fdsAt10k / 1.2, 2)}× the cap`),
    });
    rows.push({
      measure: `/health p99 during ${measured}`,
      ours: `${fmt(report.health_p99_ms, 1)} ms`,
      reference: `p50 ${fmt(report.health_p50_ms, 1)} ms, ${report.health_probes} probes`,
      ratio: "—",
      target: "< 50 ms",
      met: verdict(report.health_p99_ms < 50, `${fmt(report.health_p99_ms / 50, 1)}× the cap`),
    });
    const bareSse = await startScript("bench/servers/bare_sse.ts");
    servers.push(bareSse);
    const floor = await heldStreamsFloor(bareSse, report.calls);
    rows.push({
      measure: "(for scale) bare Deno.serve holding an SSE response open, per response",
      ours: `${fmt(floor.rss_per_stream_bytes / 1024)} KiB, ${fmt(floor.fds_per_stream, 2)} fds`,
      reference: `${fmt(report.calls)} responses, slope between halves`,
      ratio: "—",
      target: "—",
      met: "—",
    });
    if (report.completed !== report.calls) {
      notes.push(`Long calls: only ${report.completed} of ${report.calls} completed.`);
    }
    notes.push(
      `Long calls: ${
        fmt(report.progress_per_call, 1)
      } progress notifications per call reached the client; RSS peaked at ${
        mib(report.rss_peak_with_results_bytes)
      } while the ${fmt(report.calls)} results (each with an image preview) came back.`,
    );
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  }

  if (only.has("cold")) {
    log("stdio cold start");
    const dir = await Deno.makeTempDir({ prefix: "fal-mcp-bench-" });
    try {
      const bundle = await buildBundle(dir);
      const cold = await coldStart(bundle, whole("cold-rounds"));
      rows.push({
        measure: "stdio cold start (bundle) vs minimal SDK v2 stdio server",
        ours: `${fmt(cold.bundle_ms)} ms`,
        reference: `${fmt(cold.sdk_ms)} ms`,
        ratio: `${fmt(cold.ratio, 2)}×`,
        target: "≤ 0.6×",
        met: verdict(cold.ratio <= 0.6, `${fmt(cold.ratio / 0.6, 2)}× the target`),
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }

  if (only.has("completion")) {
    log("completion to result");
    const ownFal = await startFakeFalProcess();
    servers.push(ownFal);
    // Without previews: the job machinery alone (completion seen, result fetched, answered).
    // With them (the default): plus downloading the image and making its preview.
    for (const previews of [false, true]) {
      const falMcp = await startFalMcp(
        ownFal.origin,
        previews ? [] : ["--inline-max-bytes", "0"],
      );
      servers.push(falMcp);
      // Without previews the result image is 64×64, so the fake's own rendering (one image after
      // another on its one thread, where fal renders on many machines) does not delay the others.
      const input = previews ? {} : { image_size: { width: 64, height: 64 } };
      await completionLatency(falMcp, ownFal.origin, 1, 300, input); // warm-up
      for (const jobs of [1, 50]) {
        const results = [];
        for (let i = 0; i < 3; i++) {
          results.push(await completionLatency(falMcp, ownFal.origin, jobs, 1500, input));
        }
        const p50 = median(results.map((r) => r.p50_ms));
        rows.push({
          measure: `completion → result at the client, ${
            jobs === 1 ? "one job alone" : `${jobs} at once`
          }${previews ? ", with an image preview" : ""}`,
          ours: `p50 ${fmt(p50)} ms`,
          reference: `max ${fmt(Math.max(...results.map((r) => r.max_ms)))} ms`,
          ratio: "—",
          target: "≤ 20 ms p50",
          met: verdict(p50 <= 20, `${fmt(p50 / 20, 1)}× the target`),
        });
      }
      await falMcp.stop();
      servers.splice(servers.indexOf(falMcp), 1);
    }
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  }
} finally {
  await Promise.allSettled(servers.map((s) => s.stop()));
  await fal.close();
}

const loadAfter = Deno.loadavg();
const cpu = /model name\s*:\s*(.+)/.exec(await Deno.readTextFile("/proc/cpuinfo"))?.[1] ?? "?";
const machine = `${navigator.hardwareConcurrency} × ${cpu}, ${
  mib(Deno.systemMemoryInfo().total)
} RAM, ${Deno.build.os} ${Deno.osRelease()}, Deno ${Deno.version.deno}`;
const load = `load average ${loadBefore.map((n) => fmt(n, 2)).join(" ")} before, ${
  loadAfter.map((n) => fmt(n, 2)).join(" ")
} after (shared machine)`;
const settings =
  `wrk ${options.threads} threads × ${options.connections} connections, ${options.rounds} interleaved rounds × ${options.seconds} s per scenario; ratios are medians of per-round ratios`;

const header = "| measure | fal-mcp | reference | ratio | target | met |";
const table = [
  header,
  "| --- | --- | --- | --- | --- | --- |",
  ...rows.map((r) =>
    `| ${r.measure} | ${r.ours} | ${r.reference} | ${r.ratio} | ${r.target} | ${r.met} |`
  ),
].join("\n");
console.log(table);
console.log(`\n${machine}\n${load}\n${settings}`);
for (const note of notes) console.log(note);

if (!values["no-write"]) {
  const path = new URL("../docs/performance.md", import.meta.url);
  const existing = await Deno.readTextFile(path).catch(() => "");
  const marker = "<!-- bench:end -->";
  const tail = existing.includes(marker)
    ? existing.slice(existing.indexOf(marker) + marker.length)
    : "";
  const doc = `# Performance

Written by \`deno task bench\` (bench/main.ts) on ${
    startedAt.toISOString().slice(0, 16).replace("T", " ")
  } UTC.
Every figure comes from the same run, on the same machine; throughput is compared as ratios
because the machine is shared and absolute numbers drift.

${table}

- Machine: ${machine}.
- Load: ${load}.
- Throughput: ${settings}. Each throughput ratio is also given per CPU: the servers' own CPU time
  per request (user + system, from \`/proc\`), theirs over ours, which a busy neighbour disturbs
  far less than requests per second. fal-mcp runs \`main.ts --transport http --log-level warn\` with the
  in-memory job store; \`tools/call\` is \`list_jobs\` (cheap, no fal request); tmcp
  (\`tmcp\` 1.20 + \`@tmcp/transport-http\` + \`@tmcp/adapter-zod\`) and the SDK v2 server
  (\`createMcpHandler\`) each serve one echo tool; bare \`Deno.serve\` answers a fixed JSON.
- Long calls: ${fmt(longCalls)} concurrent \`run_model\` calls of ${fmt(longMs)} ms jobs at the fake
  fal (a process of its own) with progress, opened in two halves on a warm server; the cost of one
  more call is the slope of the fal-mcp process's RSS and fds between the halves, \`/health\` is probed
  one request at a time while all are in flight and their results come back. The 10,000 figure adds
  that slope to the measured total; run
  \`deno task bench --only long --long-calls 10000 --long-ms 60000\` for the real one (needs
  \`ulimit -n\` above 30,000).
- Cold start: spawn → \`initialize\` answered over stdio, the release bundle (\`deno bundle\`) vs
  bench/servers/sdk_stdio.ts, interleaved, medians.
- Completion → result: the fake fal's completion time of a job (its \`ended_at\`; the fake runs in a
  process of its own) to the moment its \`run_model\` result reaches the client, one job alone and
  50 jobs finishing together (median of 3 batches), with inline previews off (64×64 images, so the
  fake's one-thread rendering does not queue the jobs) and on (the default: the server downloads
  the 1024×768 JPEG and makes a 512 px preview on a worker).
${notes.map((n) => `- ${n}`).join("\n")}
${marker}${tail || "\n"}`;
  await Deno.writeTextFile(path, doc);
  // Written as the formatter would, so `deno fmt --check` stays green after a run.
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", path.pathname],
    stdout: "null",
    stderr: "inherit",
  }).output();
  log(`wrote ${path.pathname}`);
}
