/**
 * Runs the official MCP conformance suite (`npm:@modelcontextprotocol/conformance`, pinned in
 * `tests/deno.json` and `tests/deno.lock`) against a Streamable HTTP endpoint and parses its
 * results.
 *
 * The suite is a Node CLI whose bundle runs on import and calls `process.exit`, so it is run as
 * a subprocess of this Deno executable, from the repository root with the tests' `deno.json`
 * (frozen lockfile, `tests/node_modules/`), which works offline once the package is cached.
 * Every scenario writes `server-<scenario>-<timestamp>/checks.json` into a temporary `-o`
 * directory; those files, not the pretty-printed stdout, are the source of truth.
 *
 * @example Run two scenarios against a running server
 * ```ts
 * import { runConformance } from "./run.ts";
 *
 * const report = await runConformance("http://127.0.0.1:8000/mcp", {
 *   scenarios: ["server-initialize", "dns-rebinding-protection"],
 * });
 * console.error(report.passed, report.failed);
 * ```
 *
 * From a shell: `deno run -A tests/conformance/run.ts http://127.0.0.1:8000/mcp [scenario...]`
 * prints the report as JSON.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The suite package, exactly as pinned in `tests/deno.json` and `tests/deno.lock`. */
export const CONFORMANCE_PACKAGE = "npm:@modelcontextprotocol/conformance@0.2.0-alpha.12";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DENO_CONFIG = fileURLToPath(new URL("../deno.json", import.meta.url));

/** One check as the suite writes it to `checks.json`. */
export interface ConformanceCheck {
  /** Check id, e.g. `localhost-host-rebinding-rejected`. */
  id: string;
  /** Check name, e.g. `DNSRebindingRejected`. */
  name: string;
  /** What the check verifies. */
  description: string;
  /** `SUCCESS` and `FAILURE` count; `WARNING` is a SHOULD-level miss; `INFO` is a trace. */
  status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | "SKIPPED";
  /** Why the check failed or warned. */
  errorMessage?: string;
  /** Free-form evidence (status codes, headers, bodies). */
  details?: unknown;
}

/** A scenario or check that did not pass, with the suite's explanation. */
export interface ConformanceProblem {
  /** Scenario name (for `failed`) or `scenario/check-id` (for `warnings`). */
  name: string;
  /** One line: the failing checks' ids and messages, or why the scenario did not run. */
  reason: string;
}

/** Parsed results of one run of the suite. */
export interface ConformanceReport {
  /** Scenarios with at least one `SUCCESS` check and no `FAILURE` check. */
  passed: string[];
  /**
   * Scenarios with a `FAILURE` check, with no `SUCCESS` check at all (only warnings or
   * traces), or that did not produce results (unknown name, crash, timeout).
   */
  failed: ConformanceProblem[];
  /** `WARNING` checks (SHOULD-level) of every scenario, passed or not. */
  warnings: ConformanceProblem[];
  /** Every check of every scenario that produced results, by scenario name. */
  checks: Record<string, ConformanceCheck[]>;
  /** Failures set aside as not testable here (`scenario/check-id`), see the option. */
  notTestable: string[];
}

/** Options for {@linkcode runConformance}. */
export interface RunConformanceOptions {
  /**
   * Scenario names to run (see `conformance list --server`). Each one runs in its own
   * subprocess. Omitted: the suite's whole server catalogue (`--suite all`), or the
   * requirement set named by `requirements`, in one subprocess.
   */
  scenarios?: string[];
  /**
   * A requirement set (`2026-07-28`, `2025-11-25`: see `conformance list --requirements X`):
   * every server scenario the set names, scored or not, each at that revision's wire version,
   * in one subprocess (`server --requirements X`). Ignored when `scenarios` is given.
   */
  requirements?: string;
  /** Subprocesses run at once when `scenarios` is given. Default 2. */
  concurrency?: number;
  /**
   * Kill a subprocess (and fail its scenarios) after this many milliseconds. Default 60 000 (one
   * scenario) or 240 000 (a whole catalogue or requirement set).
   */
  timeoutMs?: number;
  /**
   * Checks, by scenario, that cannot apply to this server (the suite needs a fixture it does
   * not register): a `FAILURE` of one of them whose message begins with "Not testable" is
   * reported under `notTestable` instead of failing its scenario. Any other failure still fails.
   */
  notTestable?: Record<string, Record<string, string>>;
}

interface SubprocessResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

async function runSuite(
  args: string[],
  timeoutMs: number,
): Promise<SubprocessResult> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        DENO_CONFIG,
        CONFORMANCE_PACKAGE,
        ...args,
      ],
      cwd: REPO_ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
      timedOut,
    };
  } finally {
    clearTimeout(timer);
  }
}

const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

async function readResults(
  dir: string,
): Promise<Map<string, ConformanceCheck[]>> {
  const results = new Map<string, ConformanceCheck[]>();
  for await (const entry of Deno.readDir(dir)) {
    const match = entry.isDirectory ? RESULT_DIR.exec(entry.name) : null;
    if (!match?.[1]) continue;
    let text: string;
    try {
      text = await Deno.readTextFile(`${dir}/${entry.name}/checks.json`);
    } catch (error) {
      // The directory is created when a scenario starts, checks.json when it ends.
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    results.set(match[1], JSON.parse(text) as ConformanceCheck[]);
  }
  return results;
}

/**
 * Scenario names a suite run started (`=== Running scenario: name ===`) or summed up
 * (`✓ name: …` / `✗ name: …`).
 */
function ranScenarios(stdout: string): string[] {
  const started = [...stdout.matchAll(/^=== Running scenario: (\S+) ===$/gm)]
    .map((m) => m[1]!);
  const summed = [
    ...stdout.matchAll(/^[✓✗] ([^\s:]+): \d+ passed, \d+ failed$/gmu),
  ]
    .map((m) => m[1]!);
  return [...new Set([...started, ...summed])];
}

function firstLines(text: string, count = 3): string {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "").slice(
    0,
    count,
  ).join(" | ");
}

function messageOf(check: ConformanceCheck): string {
  const details = check.details as { message?: unknown } | undefined;
  return check.errorMessage ??
    (typeof details?.message === "string" ? details.message : check.description);
}

function describe(check: ConformanceCheck): string {
  return `${check.id}: ${messageOf(check)}`;
}

function classify(
  name: string,
  checks: ConformanceCheck[],
  report: ConformanceReport,
  notTestable: Record<string, string> = {},
): void {
  report.checks[name] = checks;
  const setAside = (c: ConformanceCheck) =>
    c.status === "FAILURE" && c.id in notTestable &&
    /^Not testable/.test(messageOf(c));
  for (const check of checks.filter(setAside)) {
    report.notTestable.push(`${name}/${check.id}`);
  }
  for (const check of checks) {
    if (check.status === "WARNING") {
      report.warnings.push({
        name: `${name}/${check.id}`,
        reason: messageOf(check),
      });
    }
  }
  const failures = checks.filter((c) => c.status === "FAILURE" && !setAside(c));
  if (failures.length > 0) {
    report.failed.push({ name, reason: failures.map(describe).join("; ") });
  } else if (!checks.some((c) => c.status === "SUCCESS")) {
    const warnings = checks.filter((c) => c.status === "WARNING");
    report.failed.push({
      name,
      reason: warnings.length > 0
        ? `no check succeeded; warnings: ${warnings.map(describe).join("; ")}`
        : "no check succeeded (the scenario did not apply to this server)",
    });
  } else {
    report.passed.push(name);
  }
}

function noResults(
  name: string,
  run: SubprocessResult,
  timeoutMs: number,
): ConformanceProblem {
  const reason = run.timedOut
    ? `timed out after ${timeoutMs} ms`
    : `no results (exit code ${run.code}): ${firstLines(run.stderr || run.stdout)}`;
  return { name, reason };
}

/**
 * Runs the conformance suite's server scenarios against `url` (the full endpoint, e.g.
 * `http://127.0.0.1:8000/mcp`) and reports, per scenario, whether it passed.
 *
 * The subprocesses are always awaited (or killed on timeout) before this resolves, and their
 * temporary result directory is removed.
 */
export async function runConformance(
  url: string,
  options: RunConformanceOptions = {},
): Promise<ConformanceReport> {
  const timeoutMs = options.timeoutMs ?? (options.scenarios ? 60_000 : 240_000);
  const report: ConformanceReport = {
    passed: [],
    failed: [],
    warnings: [],
    checks: {},
    notTestable: [],
  };
  const notTestable = options.notTestable ?? {};
  const outDir = await Deno.makeTempDir({ prefix: "mcp-conformance-" });
  try {
    if (options.scenarios === undefined) {
      const selection = options.requirements === undefined
        ? ["--suite", "all"]
        : ["--requirements", options.requirements];
      const run = await runSuite([
        "server",
        "--url",
        url,
        ...selection,
        "-o",
        outDir,
      ], timeoutMs);
      const results = await readResults(outDir);
      for (const [name, checks] of results) {
        classify(name, checks, report, notTestable[name]);
      }
      // A scenario that threw inside the runner is in the summary but wrote no checks.json.
      for (const name of ranScenarios(run.stdout)) {
        if (!results.has(name)) {
          report.failed.push(noResults(name, run, timeoutMs));
        }
      }
      if (results.size === 0 && report.failed.length === 0) {
        report.failed.push(noResults("(suite)", run, timeoutMs));
      }
    } else {
      const queue = [...new Set(options.scenarios)];
      const runOne = async (name: string): Promise<void> => {
        try {
          const dir = await Deno.makeTempDir({ dir: outDir });
          const run = await runSuite(
            ["server", "--url", url, "--scenario", name, "-o", dir],
            timeoutMs,
          );
          const checks = (await readResults(dir)).get(name);
          if (checks) classify(name, checks, report, notTestable[name]);
          else report.failed.push(noResults(name, run, timeoutMs));
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          report.failed.push({
            name,
            reason: `could not run the scenario: ${message}`,
          });
        }
      };
      const workers = Array.from(
        {
          length: Math.max(1, Math.min(options.concurrency ?? 2, queue.length)),
        },
        async () => {
          for (
            let name = queue.shift();
            name !== undefined;
            name = queue.shift()
          ) {
            await runOne(name);
          }
        },
      );
      await Promise.all(workers);
    }
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
  report.passed.sort();
  report.failed.sort((a, b) => a.name.localeCompare(b.name));
  report.warnings.sort((a, b) => a.name.localeCompare(b.name));
  return report;
}

/** The suite's server scenario names (`conformance list --server`), in catalogue order. */
export async function listServerScenarios(
  timeoutMs = 60_000,
): Promise<string[]> {
  const run = await runSuite(["list", "--server"], timeoutMs);
  if (run.code !== 0) {
    throw new Error(
      `conformance list failed (exit ${run.code}): ${firstLines(run.stderr)}`,
    );
  }
  return [...run.stdout.matchAll(/^\s+- (\S+)/gm)].map((m) => m[1]!);
}

/**
 * The server scenarios a requirement set names (`conformance list --requirements X`): the
 * required ones first, then those it runs without scoring (`extension`, `pending`,
 * `added-after-release`).
 */
export async function listRequirementSet(
  revision: string,
  timeoutMs = 60_000,
): Promise<string[]> {
  const run = await runSuite(["list", "--requirements", revision], timeoutMs);
  if (run.code !== 0) {
    throw new Error(
      `conformance list --requirements ${revision} failed (exit ${run.code}): ${
        firstLines(run.stderr)
      }`,
    );
  }
  const required = /^Server scenarios[^\n]*\n((?: {2}- \S+\n)*)/m.exec(run.stdout)?.[1] ?? "";
  const names = [...required.matchAll(/^ {2}- (\S+)$/gm)].map((m) => m[1]!);
  const unscored = [...run.stdout.matchAll(/^ {4}- (\S+) \[server\]$/gm)].map((
    m,
  ) => m[1]!);
  return [...names, ...unscored];
}

if (import.meta.main) {
  const [url, ...scenarios] = Deno.args;
  if (!url) {
    console.error(
      "usage: deno run -A tests/conformance/run.ts <url> [scenario...]",
    );
    Deno.exit(2);
  }
  const report = await runConformance(
    url,
    scenarios.length > 0 ? { scenarios } : {},
  );
  const { checks: _checks, ...summary } = report;
  console.log(JSON.stringify(summary, null, 2));
  Deno.exit(report.failed.length > 0 ? 1 : 0);
}
