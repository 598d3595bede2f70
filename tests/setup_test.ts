/**
 * The set-up a newcomer follows: README.md's first two commands run on a machine with only Node
 * and npm (`npx -y deno@<pinned> task start|test`), CI runs exactly README's test command, and the
 * server's own lockfile holds only what the server runs, so a first `deno task start` never
 * fetches the test-only packages.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, ROOT));

/** The lines of README.md's first sh block, comments removed. */
async function readmeCommands(): Promise<string[]> {
  const readme = await read("README.md");
  const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  return block.split("\n").map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter(Boolean);
}

/** The Deno version CI pins. */
async function pinnedDeno(): Promise<string> {
  const version = /^DENO_VERSION=(\S+)$/m.exec(await read(".ci/run"))?.[1];
  assert.ok(version, "DENO_VERSION not found in .ci/run");
  return version;
}

Deno.test("README starts with the start and test commands through npx and the pinned Deno", async () => {
  const version = await pinnedDeno();
  assert.deepEqual((await readmeCommands()).slice(0, 2), [
    `npx -y deno@${version} task start`,
    `npx -y deno@${version} task test`,
  ]);
  const ci = await read(".github/workflows/ci.yml");
  assert.match(
    ci,
    new RegExp(`deno-version: ${version.replaceAll(".", "\\.")}\\b`),
  );
});

Deno.test(".ci/run runs exactly the test command README.md shows", async () => {
  const output = await new Deno.Command("bash", {
    args: [new URL(".ci/run", ROOT).pathname, "--print-test-command"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const command = new TextDecoder().decode(output.stdout).trim();
  const fromReadme = (await readmeCommands()).find((line) => / task test$/.test(line));
  assert.equal(command, fromReadme);
  const script = await read(".ci/run");
  assert.match(
    script,
    /bash -c "\$TEST_COMMAND"/,
    ".ci/run runs the extracted command",
  );
});

/** Bare specifiers (`zod`, `@modelcontextprotocol/server/stdio`) imported by files in `paths`. */
async function bareImports(paths: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  const visit = async (path: string) => {
    const url = new URL(path, ROOT);
    const info = await Deno.stat(url);
    if (info.isDirectory) {
      for await (const entry of Deno.readDir(url)) {
        if (entry.name !== "node_modules") await visit(`${path}/${entry.name}`);
      }
    } else if (path.endsWith(".ts")) {
      const text = await Deno.readTextFile(url);
      for (const m of text.matchAll(/(?:from|import)\s+"([@a-z][\w@./-]*)"/g)) {
        if (!/^(?:node|npm|jsr|https?):/.test(m[1]!)) found.add(m[1]!);
      }
    }
  };
  for (const path of paths) await visit(path);
  return found;
}

/** The import-map key a bare specifier resolves through. */
function importKey(
  specifier: string,
  imports: Record<string, string>,
): string | undefined {
  if (specifier in imports) return specifier;
  return Object.keys(imports).find((key) => key.endsWith("/") && specifier.startsWith(key));
}

Deno.test("the server's deno.json and deno.lock hold only what the server and demo import", async () => {
  const root = JSON.parse(await read("deno.json"));
  const used = [
    ...await bareImports(["main.ts", "mod.ts", "src", "tests/fake_fal"]),
  ]
    .filter((s) => !s.startsWith(`${root.name}/`)); // the package itself, in its examples
  const keys = new Set([...used].map((s) => importKey(s, root.imports)));
  assert.ok(!keys.has(undefined), `unmapped imports: ${used}`);
  assert.deepEqual(
    Object.keys(root.imports).sort(),
    [...keys].sort(),
    "unused server imports",
  );
  const lock = JSON.parse(await read("deno.lock"));
  const packages = Object.keys(lock.npm ?? {});
  for (
    // (`@modelcontextprotocol/client` is not on this list: ext-apps, which serves the MCP App
    // view, requires it as a peer.)
    const testOnly of [
      "@modelcontextprotocol/sdk",
      "@modelcontextprotocol/conformance",
      "fast-check",
    ]
  ) {
    assert.ok(
      !packages.some((p) => p.startsWith(`${testOnly}@`)),
      `${testOnly} in deno.lock`,
    );
  }
});

Deno.test("tests/deno.json pins the server's packages exactly as deno.json does", async () => {
  const root = JSON.parse(await read("deno.json"));
  const tests = JSON.parse(await read("tests/deno.json"));
  for (const [key, value] of Object.entries(root.imports)) {
    assert.equal(tests.imports[key], value, key);
  }
  assert.deepEqual(tests.compilerOptions, root.compilerOptions);
  assert.deepEqual(tests.unstable, root.unstable);
  // Test-only packages are never imported by what ships.
  const shipped = await bareImports(["main.ts", "mod.ts", "src"]);
  for (
    const key of Object.keys(tests.imports).filter((k) => !(k in root.imports))
  ) {
    assert.ok(
      ![...shipped].some((s) => importKey(s, { [key]: "" }) === key),
      key,
    );
  }
});

Deno.test("deno task check and .ci/run type-check every documentation example", async () => {
  const tasks = JSON.parse(await read("deno.json")).tasks as Record<
    string,
    string
  >;
  assert.match(tasks.check!, /deno check --doc main\.ts mod\.ts src\//);
  assert.match(tasks.check!, /deno check --doc-only README\.md docs\//);
  assert.match(
    tasks.check!,
    /--config tests\/deno\.json --doc tests\/ bench\//,
  );
  assert.match(tasks.ok!, /deno task check/);
  assert.match(await read(".ci/run"), /^deno task check$/m);
});
