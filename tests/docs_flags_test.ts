/**
 * The documentation and `--help` name the same flags and environment variables: every flag and
 * variable in README.md and docs/*.md exists in `fal-mcp --help`, and every one in `--help` is
 * documented.
 *
 * Flags in the docs are read from prose (tables, inline code) and from command lines that run the
 * server (`fal-mcp …`, `main.ts …`, `jsr:@fal-mcp/fal-mcp …`, the image, `deno task start|demo …`),
 * after the server's name only, so `deno run --allow-net …` or `docker run --rm …` are not taken
 * for server flags.
 *
 * @module
 */

import assert from "node:assert/strict";
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
]);
const HELP_ONLY_FLAGS = new Set<string>([]);
/** `FAL_MCP_MODEL_<TASK>` is a family: the docs show concrete members of it. */
const DOCS_ONLY_ENV_PREFIXES = ["FAL_MCP_MODEL_"];
const HELP_ONLY_ENV = new Set<string>([]);

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

async function helpNames(): Promise<Names> {
  const help = await runMain(["--help"]);
  assert.equal(help.code, 0, help.stderr);
  return namesInHelp(help.stdout);
}

/** A family prefix such as `FAL_MCP_MODEL_` (from `FAL_MCP_MODEL_<TASK>` or `FAL_MCP_*`). */
function isFamily(name: string): boolean {
  return name.endsWith("_");
}

Deno.test("every flag named in the docs exists in --help", async () => {
  const [{ names: docs, files }, help] = await Promise.all([docsNames(), helpNames()]);
  assert.ok(help.flags.size >= 25, `too few flags parsed from --help: ${[...help.flags]}`);
  const unknown = [...docs.flags].filter((f) => !help.flags.has(f) && !DOCS_ONLY_FLAGS.has(f));
  assert.deepEqual(unknown.sort(), [], `flags in ${files.join(", ")} that --help does not list`);
});

Deno.test("every flag in --help is documented", async () => {
  const [{ names: docs }, help] = await Promise.all([docsNames(), helpNames()]);
  const undocumented = [...help.flags].filter((f) => !docs.flags.has(f) && !HELP_ONLY_FLAGS.has(f));
  assert.deepEqual(undocumented.sort(), [], "flags in --help that no document names");
});

Deno.test("every environment variable named in the docs exists in --help", async () => {
  const [{ names: docs }, help] = await Promise.all([docsNames(), helpNames()]);
  assert.ok(help.env.size >= 25, `too few variables parsed from --help: ${[...help.env]}`);
  const unknown = [...docs.env].filter((name) =>
    !help.env.has(name) && !isFamily(name) &&
    !DOCS_ONLY_ENV_PREFIXES.some((prefix) => name.startsWith(prefix))
  );
  assert.deepEqual(unknown.sort(), [], "variables in the docs that --help does not list");
});

Deno.test("every environment variable in --help is documented", async () => {
  const [{ names: docs }, help] = await Promise.all([docsNames(), helpNames()]);
  const undocumented = [...help.env].filter((name) =>
    !docs.env.has(name) && !HELP_ONLY_ENV.has(name)
  );
  assert.deepEqual(undocumented.sort(), [], "variables in --help that no document names");
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
