/**
 * Memory benchmark of file uploads: uploads a sparse 500 MB file (multipart, streamed from disk)
 * to a fake fal started in this process, and reports the peak RSS growth against a baseline
 * upload of 50 MB run in the same process. Flat memory means a ratio near 1 (a buffering
 * upload would grow about 10×). Sparse files take no disk space. Not part of `deno task test`.
 *
 * Run (the GC flag makes each run start from a collected heap, for steadier numbers):
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc bench/upload_memory.ts
 * deno run -A --v8-flags=--expose-gc bench/upload_memory.ts --size-mb 1000 --baseline-mb 50
 * ```
 *
 * Prints one JSON object on stdout: `baseline` and `large` runs (bytes, parts, peak RSS growth,
 * seconds), and `ratio` = large growth / baseline growth.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { FalClient } from "../src/fal/client.ts";
import { resolveFalHosts } from "../src/fal/hosts.ts";
import { FalStorage } from "../src/fal/storage.ts";
import { startFakeFal } from "../tests/fake_fal/server.ts";
import { sparseFile } from "../tests/helpers/sparse_file.ts";

const MB = 1_000_000;
const SAMPLE_MS = 5;

/** One measured upload. */
interface RunReport {
  size_bytes: number;
  parts: number;
  rss_before_bytes: number;
  peak_rss_growth_bytes: number;
  seconds: number;
}

const args = parseArgs({
  args: Deno.args,
  options: {
    "size-mb": { type: "string", default: "500" },
    "baseline-mb": { type: "string", default: "50" },
  },
});
const largeBytes = Number(args.values["size-mb"]) * MB;
const baselineBytes = Number(args.values["baseline-mb"]) * MB;
if (!(largeBytes > 0) || !(baselineBytes > 0)) {
  throw new RangeError("--size-mb and --baseline-mb must be positive numbers");
}

const gc = (globalThis as { gc?: () => void }).gc;

// The fake keeps no upload bytes, so its own memory does not count against the uploader.
const fake = await startFakeFal({ maxKeptUploadBytes: 0 });
const dir = await Deno.makeTempDir({ prefix: "fal-mcp-bench-" });
try {
  const hosts = resolveFalHosts(fake.url);
  const storage = new FalStorage({ fal: new FalClient({ hosts, key: "bench-key" }), hosts });

  const measure = async (name: string, size: number): Promise<RunReport> => {
    const path = join(dir, name);
    await sparseFile(path, size);
    gc?.();
    const before = Deno.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, Deno.memoryUsage().rss);
    }, SAMPLE_MS);
    const started = performance.now();
    try {
      await storage.uploadFile(path);
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, Deno.memoryUsage().rss);
    const seconds = (performance.now() - started) / 1000;
    const upload = fake.state.uploads.at(-1);
    if (upload?.size !== size || !upload.completed) {
      throw new Error(`Benchmark upload of ${name} did not complete with ${size} bytes`);
    }
    await Deno.remove(path);
    return {
      size_bytes: size,
      parts: upload.multipart ? upload.parts.length : 1,
      rss_before_bytes: before,
      peak_rss_growth_bytes: peak - before,
      seconds: Number(seconds.toFixed(3)),
    };
  };

  await measure("warmup.bin", 1 * MB); // loads modules and warms the code paths first
  const baseline = await measure("baseline.bin", baselineBytes);
  const large = await measure("large.bin", largeBytes);
  // Growth below one sampling quantum is noise: never divide by (nearly) zero.
  const floor = 1024 * 1024;
  const ratio = Math.max(large.peak_rss_growth_bytes, floor) /
    Math.max(baseline.peak_rss_growth_bytes, floor);
  const report = {
    benchmark: "upload_memory",
    deno: Deno.version.deno,
    gc_between_runs: gc !== undefined,
    baseline,
    large,
    size_ratio: Number((largeBytes / baselineBytes).toFixed(2)),
    ratio: Number(ratio.toFixed(2)),
  };
  await Deno.stdout.write(new TextEncoder().encode(JSON.stringify(report, null, 2) + "\n"));
} finally {
  await fake.close();
  await Deno.remove(dir, { recursive: true });
}
