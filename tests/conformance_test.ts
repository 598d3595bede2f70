/**
 * Runs the official MCP conformance suite (`@modelcontextprotocol/conformance`, pinned) against
 * a real fal-mcp HTTP server on the fake fal, once per requirement set (2026-07-28 and
 * 2025-11-25, each at its own wire version, in parallel subprocesses), plus the catalogue
 * scenarios no set names, and judges the results against `tests/conformance/baseline.json`
 * (see `tests/conformance/README.md` and docs/conformance.md).
 *
 * @module
 */

import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import {
  type ConformanceCheck,
  type ConformanceReport,
  listRequirementSet,
  listServerScenarios,
  runConformance,
} from "./conformance/run.ts";
import { type Baseline, judgeRun, type RunBaseline } from "./conformance/judge.ts";
import baselineJson from "./conformance/baseline.json" with { type: "json" };

const baseline: Baseline = baselineJson;
const REQUIREMENT_SETS = ["2026-07-28", "2025-11-25"] as const;

Deno.test("the conformance baseline covers both requirement sets and every catalogue scenario", async () => {
  assert.deepEqual(
    Object.keys(baseline.requirementSets).toSorted(),
    [...REQUIREMENT_SETS].sort(),
  );
  const [catalogue, ...sets] = await Promise.all([
    listServerScenarios(),
    ...REQUIREMENT_SETS.map((set) => listRequirementSet(set)),
  ]);
  const inSets = new Set(sets.flat());
  const outside = catalogue.filter((name) => !inSets.has(name));
  assert.deepEqual(
    outside.toSorted(),
    Object.keys(baseline.outsideSets).toSorted(),
  );
  for (const name of inSets) {
    assert.ok(catalogue.includes(name), `${name} is not in the catalogue`);
  }
});

const EMPTY: RunBaseline = {
  notTestable: {},
  inapplicable: {},
  skippedBySuite: {},
};
const check = (
  id: string,
  status: ConformanceCheck["status"],
  errorMessage?: string,
) => ({
  id,
  name: id,
  description: id,
  status,
  ...(errorMessage === undefined ? {} : { errorMessage }),
});

Deno.test("the conformance judge fails a new failure, a baselined scenario that passes, and stale entries", () => {
  const ok = check("a", "SUCCESS");
  const fixtureMissing = check(
    "b",
    "FAILURE",
    "Tool test_simple_text not found",
  );
  const inapplicable: RunBaseline = {
    ...EMPTY,
    inapplicable: { s: { why: "fixture", failingChecks: ["b"] } },
  };
  // Holds: an applicable scenario passes; an inapplicable one fails exactly as listed.
  assert.equal(judgeRun(["s"], { s: [ok] }, EMPTY)[0]?.problem, undefined);
  assert.equal(
    judgeRun(["s"], { s: [ok, fixtureMissing] }, inapplicable)[0]?.problem,
    undefined,
  );
  // Does not hold: a failure nobody listed, a baselined scenario now passing, a different check
  // failing, a not-testable check that fails for another reason, an entry outside the run.
  assert.match(
    judgeRun(["s"], { s: [ok, fixtureMissing] }, EMPTY)[0]!.problem!,
    /^failed: b/,
  );
  assert.match(
    judgeRun(["s"], { s: [ok] }, inapplicable)[0]!.problem!,
    /now passes/,
  );
  assert.match(
    judgeRun(
      ["s"],
      { s: [ok, check("c", "FAILURE", "wrong status")] },
      inapplicable,
    )[0]!.problem!,
    /checks outside the baseline fail: c.*baselined checks no longer fail: b/,
  );
  const notTestable: RunBaseline = {
    ...EMPTY,
    notTestable: { s: { b: "diagnostic tool" } },
  };
  assert.equal(
    judgeRun(
      ["s"],
      { s: [ok, check("b", "FAILURE", "Not testable: no tool")] },
      notTestable,
    )[0]
      ?.problem,
    undefined,
  );
  assert.match(
    judgeRun(["s"], { s: [ok, fixtureMissing] }, notTestable)[0]!.problem!,
    /failed/,
  );
  assert.match(judgeRun(["s"], { s: [ok] }, notTestable)[0]!.problem!, /stale/);
  assert.match(
    judgeRun(["t"], { t: [ok] }, inapplicable)[1]!.problem!,
    /remove the entry/,
  );
  const skipped: RunBaseline = {
    ...EMPTY,
    skippedBySuite: { s: "suite skips it" },
  };
  assert.equal(
    judgeRun(["s"], { s: [check("s", "SKIPPED")] }, skipped)[0]?.problem,
    undefined,
  );
  assert.match(
    judgeRun(["s"], { s: [ok] }, skipped)[0]!.problem!,
    /now runs it/,
  );
  assert.match(
    judgeRun(["s"], {}, EMPTY, { s: "timed out" })[0]!.problem!,
    /timed out/,
  );
});

function noResultsOf(report: ConformanceReport): Record<string, string> {
  return Object.fromEntries(
    report.failed.filter((f) => !(f.name in report.checks)).map((
      f,
    ) => [f.name, f.reason]),
  );
}

Deno.test("the MCP conformance suite passes every scenario that applies, per requirement set, against a server on the fake fal", async (t) => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const url = `${server.url}/mcp`;
    let runs: {
      name: string;
      scenarios: string[];
      report: ConformanceReport;
      base: RunBaseline;
    }[];
    try {
      // The two sets and the scenarios outside them run at once, each in its own subprocess.
      const outside = Object.keys(baseline.outsideSets);
      runs = await Promise.all([
        ...REQUIREMENT_SETS.map(async (set) => {
          const [scenarios, report] = await Promise.all([
            listRequirementSet(set),
            runConformance(url, { requirements: set, timeoutMs: 300_000 }),
          ]);
          return {
            name: set,
            scenarios,
            report,
            base: baseline.requirementSets[set]!,
          };
        }),
        runConformance(url, { scenarios: outside, concurrency: 1 }).then((
          report,
        ) => ({
          name: "outside the sets",
          scenarios: outside,
          report,
          base: EMPTY,
        })),
      ]);
    } finally {
      await server.close();
    }

    for (const run of runs) {
      const verdicts = judgeRun(
        run.scenarios,
        run.report.checks,
        run.base,
        noResultsOf(run.report),
      );
      const applying = verdicts.filter((v) => v.kind === "applies");
      const checksPassed = applying.flatMap((v) => run.report.checks[v.scenario] ?? [])
        .filter((c) => c.status === "SUCCESS").length;
      console.info(
        `conformance ${run.name}: ${
          applying.filter((v) => !v.problem).length
        }/${applying.length} ` +
          `applicable scenarios pass (${checksPassed} checks), ` +
          `${verdicts.filter((v) => v.kind === "inapplicable").length} inapplicable, ` +
          `${verdicts.filter((v) => v.kind === "skipped-by-suite").length} skipped by the suite`,
      );
      for (const warning of run.report.warnings) {
        console.info(
          `conformance ${run.name} warning ${warning.name}: ${warning.reason}`,
        );
      }
      for (const verdict of verdicts) {
        await t.step(
          `${run.name}: ${verdict.scenario} (${verdict.kind})`,
          () => {
            assert.equal(
              verdict.problem,
              undefined,
              `${run.name} ${verdict.scenario}: ${verdict.problem}`,
            );
          },
        );
      }
    }
  });
});
