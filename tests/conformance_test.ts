/**
 * Runs the official MCP conformance suite (`@modelcontextprotocol/conformance`, pinned) against
 * the real HTTP server's `/mcp` endpoint and checks the results against
 * `tests/conformance/baseline.json`. See `tests/conformance/README.md`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { type ConformanceReport, listServerScenarios, runConformance } from "./conformance/run.ts";
import baselineJson from "./conformance/baseline.json" with { type: "json" };

/** Shape of `tests/conformance/baseline.json`. */
interface Baseline {
  /** The pinned suite the baseline was written for. */
  suite: string;
  /** Scenarios that must pass; each one is asserted. */
  expectedPass: string[];
  /** Checks that cannot apply to this server (fixture-only), by scenario, with why. */
  notTestable: Record<string, Record<string, string>>;
  /** Scenarios that run but may fail, with why; a pass is reported, not asserted. */
  expectedFail: Record<string, string>;
  /** Scenarios that are not run, with why. */
  skipped: Record<string, string>;
}

const baseline: Baseline = baselineJson;

Deno.test("the conformance baseline names every server scenario of the pinned suite once", async () => {
  const catalogue = await listServerScenarios();
  const named = [
    ...baseline.expectedPass,
    ...Object.keys(baseline.expectedFail),
    ...Object.keys(baseline.skipped),
  ];
  assert.deepEqual(named.toSorted(), catalogue.toSorted());
});

Deno.test("the official MCP conformance suite passes every baseline scenario against /mcp", async (t) => {
  const server = await startTestHttpServer();
  let report: ConformanceReport;
  try {
    report = await runConformance(`${server.url}/mcp`, {
      scenarios: [...baseline.expectedPass, ...Object.keys(baseline.expectedFail)],
      concurrency: 2,
      timeoutMs: 60_000,
      notTestable: baseline.notTestable,
    });
  } finally {
    await server.close();
  }

  const reasons = new Map(report.failed.map((f) => [f.name, f.reason]));
  for (const name of baseline.expectedPass) {
    await t.step(name, () => {
      assert.ok(
        report.passed.includes(name),
        `conformance scenario ${name} failed: ${reasons.get(name) ?? "no result"}`,
      );
    });
  }

  const nowPassing = report.passed.filter((name) => name in baseline.expectedFail);
  if (nowPassing.length > 0) {
    console.info(
      `conformance: expected failures now pass, move them to expectedPass in ` +
        `tests/conformance/baseline.json: ${nowPassing.join(", ")}`,
    );
  }
  for (const warning of report.warnings) {
    console.info(`conformance warning ${warning.name}: ${warning.reason}`);
  }
});
