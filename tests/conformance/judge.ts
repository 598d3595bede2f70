/**
 * Judges one conformance run against `tests/conformance/baseline.json`: every scenario that
 * applies passes, and every baseline entry is still true (a scenario named as inapplicable still
 * fails, with exactly the checks the baseline lists; a check set aside as not testable still
 * fails that way; a scenario the suite skips is still skipped).
 *
 * @example Judge a requirement set's run
 * ```ts
 * import { judgeRun } from "./judge.ts";
 *
 * const verdicts = judgeRun(["ping"], { ping: [] }, {
 *   notTestable: {},
 *   inapplicable: {},
 *   skippedBySuite: {},
 * });
 * console.error(verdicts[0]?.problem); // "no check succeeded"
 * ```
 *
 * @module
 */

import type { ConformanceCheck } from "./run.ts";

/** What the baseline says about one requirement set (or any group of scenarios run together). */
export interface RunBaseline {
  /**
   * Checks of scenarios that otherwise apply, which cannot be exercised here (they need one of
   * the suite's diagnostic tools), by scenario then check id, with why. Each must still fail
   * with a message beginning "Not testable".
   */
  notTestable: Record<string, Record<string, string>>;
  /**
   * Scenarios that cannot apply to fal-mcp (they drive the suite's own fixture tools, prompts
   * or resources, or a feature fal-mcp does not offer), with why and the exact set of checks
   * that fail. Every other check of the scenario must pass.
   */
  inapplicable: Record<string, { why: string; failingChecks: string[] }>;
  /** Scenarios the suite itself skips (every check `SKIPPED`), with why. */
  skippedBySuite: Record<string, string>;
}

/** The whole baseline file. */
export interface Baseline {
  /** The pinned suite the baseline was written for. */
  suite: string;
  /** Per requirement set (`2026-07-28`, `2025-11-25`). */
  requirementSets: Record<string, RunBaseline>;
  /** Catalogue scenarios that no requirement set names, run one by one; each must pass. */
  outsideSets: Record<string, string>;
}

/** The judgement of one scenario (or one stale baseline entry). */
export interface Verdict {
  /** Scenario name. */
  scenario: string;
  /** How the baseline classifies it. */
  kind: "applies" | "inapplicable" | "skipped-by-suite" | "stale";
  /** Why it does not hold, when it does not; `undefined` means it holds. */
  problem?: string;
}

const messageOf = (check: ConformanceCheck): string => {
  const details = check.details as { message?: unknown } | undefined;
  return check.errorMessage ??
    (typeof details?.message === "string" ? details.message : "");
};

const failuresOf = (checks: ConformanceCheck[]) => checks.filter((c) => c.status === "FAILURE");

const describe = (checks: ConformanceCheck[]) =>
  checks.map((c) => `${c.id}: ${messageOf(c).slice(0, 240)}`).join("; ");

function judgeApplicable(
  checks: ConformanceCheck[],
  notTestable: Record<string, string>,
): string | undefined {
  const setAside = (c: ConformanceCheck) =>
    c.id in notTestable && /^Not testable/.test(messageOf(c));
  const unexplained = failuresOf(checks).filter((c) => !setAside(c));
  if (unexplained.length > 0) return `failed: ${describe(unexplained)}`;
  const stillFailing = new Set(
    failuresOf(checks).filter(setAside).map((c) => c.id),
  );
  const stale = Object.keys(notTestable).filter((id) => !stillFailing.has(id));
  if (stale.length > 0) {
    return `baseline is stale: not-testable checks ${stale.join(", ")} no longer fail as ` +
      `"Not testable"; remove them from notTestable`;
  }
  if (!checks.some((c) => c.status === "SUCCESS")) return "no check succeeded";
  return undefined;
}

function judgeInapplicable(
  checks: ConformanceCheck[],
  expected: string[],
): string | undefined {
  const failing = failuresOf(checks);
  if (failing.length === 0) {
    return "now passes: it applies after all; remove it from inapplicable in the baseline";
  }
  const failingIds = new Set(failing.map((c) => c.id));
  const unexpected = failing.filter((c) => !expected.includes(c.id));
  const passing = expected.filter((id) => !failingIds.has(id));
  const parts = [];
  if (unexpected.length > 0) {
    parts.push(`checks outside the baseline fail: ${describe(unexpected)}`);
  }
  if (passing.length > 0) {
    parts.push(`baselined checks no longer fail: ${passing.join(", ")}`);
  }
  return parts.length > 0 ? parts.join("; ") : undefined;
}

function judgeSkipped(checks: ConformanceCheck[]): string | undefined {
  const ran = checks.filter((c) => c.status !== "SKIPPED" && c.status !== "INFO");
  if (checks.length === 0) return "no checks at all";
  if (ran.length > 0) {
    return `the suite now runs it (${ran.map((c) => `${c.id} ${c.status}`).join(", ")}): ` +
      `judge it and move it out of skippedBySuite`;
  }
  return undefined;
}

/**
 * Judges every scenario of `scenarios` (the run's selection) from its checks (`checks`, by
 * scenario; a missing entry means the scenario produced no results, explained by
 * `noResults[scenario]` when known) against `baseline`. Baseline entries that name a scenario
 * outside `scenarios` come back as `stale` verdicts.
 */
export function judgeRun(
  scenarios: string[],
  checks: Record<string, ConformanceCheck[]>,
  baseline: RunBaseline,
  noResults: Record<string, string> = {},
): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const scenario of scenarios) {
    const inapplicable = baseline.inapplicable[scenario];
    const kind: Verdict["kind"] = inapplicable
      ? "inapplicable"
      : scenario in baseline.skippedBySuite
      ? "skipped-by-suite"
      : "applies";
    const own = checks[scenario];
    if (!own) {
      verdicts.push({
        scenario,
        kind,
        problem: `no results: ${noResults[scenario] ?? "unknown"}`,
      });
      continue;
    }
    const problem = inapplicable
      ? judgeInapplicable(own, inapplicable.failingChecks)
      : kind === "skipped-by-suite"
      ? judgeSkipped(own)
      : judgeApplicable(own, baseline.notTestable[scenario] ?? {});
    verdicts.push(
      problem === undefined ? { scenario, kind } : { scenario, kind, problem },
    );
  }
  const named = new Set(scenarios);
  const entries = [
    ...Object.keys(baseline.inapplicable),
    ...Object.keys(baseline.skippedBySuite),
    ...Object.keys(baseline.notTestable),
  ];
  for (const scenario of new Set(entries)) {
    if (!named.has(scenario)) {
      verdicts.push({
        scenario,
        kind: "stale",
        problem: "the baseline names it but this run does not include it; remove the entry",
      });
    }
  }
  return verdicts;
}
