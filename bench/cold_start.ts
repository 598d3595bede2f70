/**
 * stdio cold start: spawn → `initialize` answered, for the bundled fal-mcp (what the release
 * ships) and for a minimal official SDK v2 stdio server, interleaved.
 *
 * @module
 */

import { median } from "./throughput.ts";

const ROOT = new URL("..", import.meta.url).pathname;

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "bench", version: "1.0.0" },
  },
}) + "\n";

/** Builds the release bundle into `dir`; answers its path. */
export async function buildBundle(dir: string): Promise<string> {
  const output = `${dir}/fal-mcp.js`;
  const built = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "deno", "--output", output, `${ROOT}main.ts`],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (built.code !== 0) throw new Error("deno bundle failed");
  return output;
}

/** Milliseconds from spawn to the `initialize` answer on stdout. */
async function timeToInitialize(args: string[], env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(INITIALIZE));
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!text.includes('"id":1')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the server exited before answering initialize: ${text}`);
      text += value;
    }
    return performance.now() - started;
  } finally {
    await writer.close().catch(() => {});
    await reader.cancel().catch(() => {});
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await child.status;
    clearTimeout(timer);
  }
}

/** Median cold start of the bundle and of the minimal SDK server, `rounds` interleaved. */
export async function coldStart(
  bundle: string,
  rounds: number,
): Promise<{ bundle_ms: number; sdk_ms: number; ratio: number }> {
  const ours = [
    "run",
    "--quiet",
    "--no-config",
    "--no-lock",
    "--no-prompt",
    "--unstable-no-legacy-abort",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    bundle,
    "--transport",
    "stdio",
  ];
  const sdk = [
    "run",
    "-A",
    "--quiet",
    "--config",
    `${ROOT}deno.json`,
    `${ROOT}bench/servers/sdk_stdio.ts`,
  ];
  const env = {
    FAL_KEY: "bench-key",
    FAL_MCP_JOB_STORE: "memory",
    HOME: Deno.env.get("HOME") ?? "/tmp",
  };
  await timeToInitialize(ours, env); // warm the OS file cache for both
  await timeToInitialize(sdk, env);
  const a: number[] = [];
  const b: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const x = await timeToInitialize(ours, env);
    const y = await timeToInitialize(sdk, env);
    a.push(x);
    b.push(y);
    ratios.push(x / y);
  }
  return { bundle_ms: median(a), sdk_ms: median(b), ratio: median(ratios) };
}
