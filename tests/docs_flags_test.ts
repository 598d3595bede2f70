/**
 * The settings table (src/settings.ts) drives `--help` and the docs: docs/configuration.md holds
 * exactly the tables rendered from it, `fal-mcp --help` names exactly its flags and variables, every
 * flag and variable in README.md and docs/*.md is one of them, and every one of them is documented.
 *
 * Flags in the docs are read from prose (tables, inline code) and from command lines that run the
 * server (`fal-mcp …`, `main.ts …`, `jsr:@fal-mcp/fal-mcp …`, the image, `deno task start|demo …`),
 * after the server's name only, so `deno run --allow-net …` or `docker run --rm …` are not taken
 * for server flags.
 *
 * @module
 */

import assert from "node:assert/strict";
import { settingList } from "../src/settings.ts";
import { CONFIGURATION_DOC, groupsInDoc, updateSettingsTables } from "../scripts/settings_docs.ts";
import { SETTING_GROUPS } from "../src/settings.ts";
import { runMain } from "./helpers/process.ts";

const ROOT = new URL("..", import.meta.url);

/** Environment variables the server reads (the families the docs and `--help` talk about). */
const ENV_PATTERN = /\b(?:FAL_MCP_[A-Z0-9_]+|FAL_KEY|FAL_BASE_URL|PORT)\b/g;
const FLAG_PATTERN = /(?<![\w-])--[a-z][a-z0-9-]*/g;

/**
 * Where a command line starts the server. Arguments after the last match are the server's.
 * (`fal-mcp-data:/data` or `https://fal-mcp.example.com` are not matches: the name must end at a
 * space or the end of the line.)
 */
const INVOCATION =
  /(?:^|[\s/])(?:fal-mcp(?:\.exe)?|fal-mcp[^\s/]*\.js|main\.ts|jsr:@fal-mcp\/fal-mcp|ghcr\.io\/fal-mcp\/fal-mcp(?::[\w.-]+)?|deno task (?:start|demo))(?=\s|$)/g;

/** Commands of other tools: their flags, in inline code in prose, are not the server's. */
const FOREIGN_COMMAND = /^(?:deno|docker|curl|fly|npm|npx|node|claude|gh|git|openssl|sudo|tar)\s/;

/**
 * Names that legitimately appear on one side only.
 */
const DOCS_ONLY_FLAGS = new Set([
  // Deno's own flags, which the docs explain (permissions the server needs, the unstable flag the
  // HTTP transport wants, cross-compiling): they are not fal-mcp flags.
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-sys",
  "--allow-ffi",
  "--allow-run",
  "--unstable-no-legacy-abort",
  "--target",
  // The conformance suite's own flag, which docs/conformance.md explains.
  "--requirements",
]);
/** `FAL_MCP_MODEL_<TASK>` is a family: the docs show concrete members of it. */
const DOCS_ONLY_ENV_PREFIXES = ["FAL_MCP_MODEL_"];

interface Names {
  flags: Set<string>;
  env: Set<string>;
}

/** Where the server's own arguments start on a command line: after its last invocation. */
function serverArgsStart(line: string): number | undefined {
  let start: number | undefined;
  for (const match of line.matchAll(INVOCATION)) start = match.index + match[0].length;
  return start;
}

/** Flags after the last invocation of the server on a command line; none if it has none. */
function serverFlagsOnCommandLine(line: string): string[] {
  const normalized = line.replace(/["'`,[\]]/g, " ");
  const start = serverArgsStart(normalized);
  if (start === undefined) return [];
  return [...normalized.slice(start).matchAll(FLAG_PATTERN)].map((m) => m[0]);
}

/** Flags in a line of prose; inline code that is a command line follows the command-line rule. */
function proseFlags(line: string): string[] {
  const flags: string[] = [];
  const outside = line.replace(/`([^`]*)`/g, (_, code: string) => {
    if (serverArgsStart(code.replace(/["'`,[\]]/g, " ")) !== undefined) {
      flags.push(...serverFlagsOnCommandLine(code));
    } else if (!FOREIGN_COMMAND.test(code)) {
      flags.push(...[...code.matchAll(FLAG_PATTERN)].map((m) => m[0]));
    }
    return " ";
  });
  flags.push(...[...outside.matchAll(FLAG_PATTERN)].map((m) => m[0]));
  return flags;
}

/** Flags and environment variables a Markdown document names. */
export function namesInMarkdown(text: string): Names {
  const names: Names = { flags: new Set(), env: new Set() };
  let fenced = false;
  for (const line of text.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    const flags = fenced ? serverFlagsOnCommandLine(line) : proseFlags(line);
    for (const flag of flags) names.flags.add(flag);
    for (const match of line.matchAll(ENV_PATTERN)) names.env.add(match[0]);
  }
  return names;
}

/** Flags and environment variables the `--help` text names. */
export function namesInHelp(text: string): Names {
  return {
    flags: new Set([...text.matchAll(FLAG_PATTERN)].map((m) => m[0])),
    env: new Set([...text.matchAll(ENV_PATTERN)].map((m) => m[0])),
  };
}

async function docsNames(): Promise<{ names: Names; files: string[] }> {
  const files = ["README.md"];
  for await (const entry of Deno.readDir(new URL("docs/", ROOT))) {
    if (entry.isFile && entry.name.endsWith(".md")) files.push(`docs/${entry.name}`);
  }
  files.sort();
  const names: Names = { flags: new Set(), env: new Set() };
  for (const file of files) {
    const found = namesInMarkdown(await Deno.readTextFile(new URL(file, ROOT)));
    for (const flag of found.flags) names.flags.add(flag);
    for (const env of found.env) names.env.add(env);
  }
  return { names, files };
}

/** The flags and variables of the settings table (families such as `FAL_MCP_MODEL_` by prefix). */
function tableNames(): Names {
  const names: Names = { flags: new Set(), env: new Set() };
  for (const [, setting] of settingList()) {
    if (setting.flag !== undefined) names.flags.add(`--${setting.flag}`);
    for (const env of setting.env) names.env.add(env.replace(/<[A-Z]+>$/, ""));
  }
  return names;
}

/** A family prefix such as `FAL_MCP_MODEL_` (from `FAL_MCP_MODEL_<TASK>` or `FAL_MCP_*`). */
function isFamily(name: string): boolean {
  return name.endsWith("_");
}

Deno.test("docs/configuration.md holds the settings tables rendered from the settings table", async () => {
  const text = await Deno.readTextFile(CONFIGURATION_DOC);
  assert.deepEqual(groupsInDoc(text).sort(), Object.keys(SETTING_GROUPS).sort());
  assert.ok(
    updateSettingsTables(text) === text,
    "docs/configuration.md is stale: run `deno task docs` to re-render its settings tables",
  );
});

Deno.test("--help names exactly the flags and variables of the settings table", async () => {
  const help = await runMain(["--help"]);
  assert.equal(help.code, 0, help.stderr);
  const fromHelp = namesInHelp(help.stdout);
  const table = tableNames();
  assert.ok(table.flags.size >= 25, `too few flags in the settings table: ${[...table.flags]}`);
  assert.deepEqual([...fromHelp.flags].sort(), [...table.flags].sort());
  assert.deepEqual([...fromHelp.env].sort(), [...table.env].sort());
});

Deno.test("every flag named in the docs is a setting", async () => {
  const { names: docs, files } = await docsNames();
  const table = tableNames();
  const unknown = [...docs.flags].filter((f) => !table.flags.has(f) && !DOCS_ONLY_FLAGS.has(f));
  assert.deepEqual(unknown.sort(), [], `flags in ${files.join(", ")} that are not settings`);
});

Deno.test("every setting's flag is documented", async () => {
  const { names: docs } = await docsNames();
  const undocumented = [...tableNames().flags].filter((f) => !docs.flags.has(f));
  assert.deepEqual(undocumented.sort(), [], "settings whose flag no document names");
});

Deno.test("every environment variable named in the docs is a setting's", async () => {
  const { names: docs } = await docsNames();
  const table = tableNames();
  const unknown = [...docs.env].filter((name) =>
    !table.env.has(name) && !isFamily(name) &&
    !DOCS_ONLY_ENV_PREFIXES.some((prefix) => name.startsWith(prefix))
  );
  assert.deepEqual(unknown.sort(), [], "variables in the docs that are no setting's");
});

Deno.test("every setting's environment variable is documented", async () => {
  const { names: docs } = await docsNames();
  const undocumented = [...tableNames().env].filter((name) => !docs.env.has(name));
  assert.deepEqual(undocumented.sort(), [], "settings whose variable no document names");
});

Deno.test("the docs parser reads server flags from command lines only after the server's name", () => {
  const text = [
    "Use `--sync-wait` and `deno run --allow-foo x.ts`.",
    "```sh",
    "deno run -A --unstable-x jsr:@fal-mcp/fal-mcp --transport http",
    "docker run --rm -v fal-mcp-data:/data ghcr.io/fal-mcp/fal-mcp:0.1.0 --log-level debug",
    "curl --fail https://fal-mcp.example.com/health",
    '"args": ["run", "-A", "jsr:@fal-mcp/fal-mcp", "--port", "0"]',
    "```",
    "Set FAL_MCP_PORT or PORT; FAL_MCP_MODEL_<TASK>.",
  ].join("\n");
  const names = namesInMarkdown(text);
  assert.deepEqual(
    [...names.flags].sort(),
    ["--log-level", "--port", "--sync-wait", "--transport"],
  );
  assert.deepEqual([...names.env].sort(), ["FAL_MCP_MODEL_", "FAL_MCP_PORT", "PORT"]);
});
