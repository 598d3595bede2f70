/**
 * Benchmark processes: each server under test runs in its own process, bound to 127.0.0.1, and
 * is stopped by the benchmark that started it.
 *
 * @module
 */

const ROOT = new URL("../..", import.meta.url).pathname;
// The tests and benchmarks config: the server's packages plus the benchmark-only ones (tmcp).
const CONFIG = `${ROOT}tests/deno.json`;

/** A server process under test. */
export interface BenchServer {
  /** `http://127.0.0.1:PORT`. */
  readonly origin: string;
  /** Process id (for RSS and fd counts). */
  readonly pid: number;
  /** Stops the process and waits for it. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Starts a bench server script that prints its port as the first stdout line. */
export async function startScript(script: string): Promise<BenchServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--config", CONFIG, `${ROOT}${script}`],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${script} exited before printing its port`);
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const port = Number(text.trim().split("\n")[0]);
  return handle(child, `http://127.0.0.1:${port}`);
}

/** Starts the fake fal (tests/fake_fal/main.ts) in a process of its own; answers its origin. */
export async function startFakeFalProcess(): Promise<BenchServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      "--config",
      CONFIG,
      `${ROOT}tests/fake_fal/main.ts`,
      "--port",
      "0",
      "--ping-ms",
      "5000",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the fake fal exited before printing its origin");
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const { fake_fal: origin } = JSON.parse(text.split("\n")[0]!) as { fake_fal: string };
  return handle(child, origin);
}

/** Starts fal-mcp (main.ts) over HTTP against a fal at `falUrl`; waits for `/health`. */
export async function startFalMcp(falUrl: string, extra: string[] = []): Promise<BenchServer> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      "--config",
      CONFIG,
      `${ROOT}main.ts`,
      "--transport",
      "http",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--fal-base-url",
      falUrl,
      "--log-level",
      "warn",
      // A benchmark is one client sending as fast as it can: no per-client rate limit.
      "--rate-limit",
      "0",
      ...extra,
    ],
    env: { FAL_KEY: "bench-key", FAL_MCP_JOB_STORE: "memory" },
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      const response = await fetch(`${origin}/health`);
      await response.body?.cancel();
      if (response.ok) return handle(child, origin);
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGKILL");
  throw new Error("fal-mcp did not answer /health within 15 s");
}

function handle(child: Deno.ChildProcess, origin: string): BenchServer {
  return {
    origin,
    pid: child.pid,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, 5000);
      await child.status;
      clearTimeout(timer);
    },
  };
}

/** Resident set size of a process in bytes (Linux `/proc`). */
export function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
  return kb * 1024;
}

/** CPU time a process has used so far, in microseconds (user + system, Linux `/proc`). */
export function cpuMicros(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (clock ticks of 10 ms)
  return ticks * 10_000;
}

/** Open file descriptors of a process (Linux `/proc`). */
export function fdCount(pid: number): number {
  let count = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) count++;
  return count;
}
