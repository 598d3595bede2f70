/**
 * Throughput, interleaved: each round runs every scenario once, in the same order, for the same
 * time, so a busy neighbour slows all of them alike; ratios are computed per round and their
 * median reported.
 *
 * @module
 */

import { type BenchServer, cpuMicros } from "./lib/process.ts";
import { type LoadRequest, runWrk } from "./lib/wrk.ts";

/** The 2026-07-28 revision. */
export const MODERN = "2026-07-28";

const POST = { "content-type": "application/json", accept: "application/json, text/event-stream" };

function modernMeta() {
  return {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": { name: "bench", version: "1.0.0" },
    "io.modelcontextprotocol/clientCapabilities": {},
  };
}

/** A 2026-07-28 stateless request to `/mcp`. */
export function modernRequest(
  origin: string,
  method: string,
  params: Record<string, unknown> = {},
): LoadRequest {
  const headers: Record<string, string> = {
    ...POST,
    "mcp-protocol-version": MODERN,
    "mcp-method": method,
  };
  if (typeof params.name === "string") headers["mcp-name"] = params.name;
  return {
    url: `${origin}/mcp`,
    body: { jsonrpc: "2.0", id: 1, method, params: { ...params, _meta: modernMeta() } },
    headers,
  };
}

/** A plain 2025-era request (no session) to `/mcp`. */
export function plainRequest(origin: string, method: string, params?: unknown): LoadRequest {
  return {
    url: `${origin}/mcp`,
    body: { jsonrpc: "2.0", id: 1, method, ...(params === undefined ? {} : { params }) },
    headers: { ...POST, "mcp-protocol-version": "2025-06-18" },
  };
}

/** Opens a 2025-06-18 session on fal-mcp; answers the request to repeat on it. */
export async function sessionRequest(
  origin: string,
  method: string,
  params: unknown,
): Promise<LoadRequest> {
  const init = await fetch(`${origin}/mcp`, {
    method: "POST",
    headers: POST,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "bench", version: "1.0.0" },
      },
    }),
  });
  await init.text();
  const session = init.headers.get("mcp-session-id");
  if (!session) throw new Error(`initialize answered ${init.status} without a session`);
  const headers = { ...POST, "mcp-protocol-version": "2025-06-18", "mcp-session-id": session };
  const initialized = await fetch(`${origin}/mcp`, {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  });
  await initialized.body?.cancel();
  return {
    url: `${origin}/mcp`,
    body: { jsonrpc: "2.0", id: 1, method, params },
    headers,
  };
}

/** One scenario: a name, and the request to repeat. */
export interface Scenario {
  /** Row name. */
  name: string;
  /** The request wrk repeats. */
  request: LoadRequest;
  /** A string every good answer contains (checked once before the load). */
  expect: string;
  /** The serving process (its CPU time per request is measured too). */
  pid: number;
  /** Every serving process, when several serve it (their CPU time is summed). */
  pids?: number[];
}

/** One scenario's run: throughput and the server's CPU time per request. */
export interface Measured {
  rps: number;
  cpuMicrosPerRequest: number;
}

/** Checks a scenario's request once: status 200 and the expected text in the answer. */
export async function verify(scenario: Scenario): Promise<void> {
  const { request } = scenario;
  const response = await fetch(request.url, {
    method: request.body === undefined ? "GET" : "POST",
    headers: request.headers,
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
  });
  const text = await response.text();
  if (response.status !== 200 || !text.includes(scenario.expect)) {
    throw new Error(`${scenario.name}: answered ${response.status}: ${text.slice(0, 500)}`);
  }
}

/** Options of an interleaved run. */
export interface ThroughputOptions {
  rounds: number;
  seconds: number;
  connections: number;
  threads: number;
}

/** What every scenario measured in every round (`[round][scenario]`). */
export async function runThroughput(
  scenarios: Scenario[],
  options: ThroughputOptions,
  onRound?: (round: number, measured: Measured[]) => void,
): Promise<Measured[][]> {
  for (const scenario of scenarios) await verify(scenario);
  const warm = { ...options, seconds: 1 };
  for (const scenario of scenarios) await runWrk(scenario.request, warm);
  const rounds: Measured[][] = [];
  for (let round = 0; round < options.rounds; round++) {
    const measured: Measured[] = [];
    for (const scenario of scenarios) {
      const pids = scenario.pids ?? [scenario.pid];
      const cpuOf = () => pids.reduce((sum, pid) => sum + cpuMicros(pid), 0);
      const cpuBefore = cpuOf();
      const result = await runWrk(scenario.request, options);
      const cpu = cpuOf() - cpuBefore;
      if (result.errors > 0) {
        throw new Error(`${scenario.name}: ${result.errors} failed responses under load`);
      }
      measured.push({ rps: result.rps, cpuMicrosPerRequest: cpu / Math.max(1, result.requests) });
    }
    rounds.push(measured);
    onRound?.(round, measured);
  }
  return rounds;
}

/** Median of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The servers a throughput run drives. */
export interface ThroughputServers {
  bare: BenchServer;
  falMcp: BenchServer;
  tmcp: BenchServer;
  sdk: BenchServer;
}

/** The scenarios of the table, in the order they run. */
export async function scenariosFor(servers: ThroughputServers): Promise<Scenario[]> {
  const { bare, falMcp, tmcp, sdk } = servers;
  return [
    { name: "bare", request: { url: `${bare.origin}/` }, expect: '"ok":true', pid: bare.pid },
    {
      name: "fal_call_2026",
      request: modernRequest(falMcp.origin, "tools/call", { name: "list_jobs", arguments: {} }),
      expect: "No jobs.",
      pid: falMcp.pid,
    },
    {
      name: "fal_list_2026",
      request: modernRequest(falMcp.origin, "tools/list"),
      expect: '"list_jobs"',
      pid: falMcp.pid,
    },
    {
      name: "fal_call_session",
      request: await sessionRequest(falMcp.origin, "tools/call", {
        name: "list_jobs",
        arguments: {},
      }),
      expect: "No jobs.",
      pid: falMcp.pid,
    },
    {
      name: "tmcp_call",
      request: plainRequest(tmcp.origin, "tools/call", { name: "echo", arguments: { text: "hi" } }),
      expect: '"text":"hi"',
      pid: tmcp.pid,
    },
    {
      name: "tmcp_list",
      request: plainRequest(tmcp.origin, "tools/list"),
      expect: '"echo"',
      pid: tmcp.pid,
    },
    {
      name: "sdk_call_2026",
      request: modernRequest(sdk.origin, "tools/call", { name: "echo", arguments: { text: "hi" } }),
      expect: '"text":"hi"',
      pid: sdk.pid,
    },
  ];
}
