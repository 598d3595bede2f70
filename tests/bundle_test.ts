/**
 * The single-file build: `deno bundle` (the same command the release workflow runs) produces one
 * JavaScript file that serves MCP over stdio and HTTP with only the permissions the release
 * binaries get, and without anything from the network or the module cache (`--no-remote`,
 * `--no-npm`, an empty `DENO_DIR`).
 *
 * @module
 */

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import assert from "node:assert/strict";
import { waitForLogLine } from "./helpers/process.ts";
import { assertFalTools, assertImageGenerated, falEnv, withFakeFal } from "./helpers/scenario.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** The release workflow's bundle command (`.github/workflows/release.yml`), minus the output. */
const BUNDLE_ARGS = ["bundle", "--quiet", "--platform", "deno"];

/** What the release binaries are compiled with (`.github/workflows/release.yml`). */
const RELEASE_PERMISSIONS = ["--allow-net", "--allow-env", "--allow-read", "--allow-write"];

/** `deno run` flags that keep the bundle offline and self-contained. */
function runArgs(bundle: string, ...args: string[]): string[] {
  return [
    "run",
    "--quiet",
    "--no-config",
    "--no-lock",
    "--no-prompt",
    "--no-remote",
    "--no-npm",
    "--unstable-no-legacy-abort",
    ...RELEASE_PERMISSIONS,
    bundle,
    ...args,
  ];
}

async function buildBundle(dir: string): Promise<string> {
  const output = `${dir}/fal-mcp.js`;
  const built = await new Deno.Command(Deno.execPath(), {
    args: [...BUNDLE_ARGS, "--output", output, MAIN],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(
    built.code,
    0,
    `deno bundle failed:\n${decoder.decode(built.stdout)}\n${decoder.decode(built.stderr)}`,
  );
  const source = await Deno.readTextFile(output);
  // Only runtime built-ins may stay as imports: everything else is inside the file.
  const imports = [...source.matchAll(/^\s*import\s[^;]*?from\s+"([^"]+)"/gm)].map((m) => m[1]);
  const foreign = imports.filter((specifier) => !specifier?.startsWith("node:"));
  assert.deepEqual(foreign, [], `the bundle still imports ${foreign.join(", ")}`);
  return output;
}

/** Environment of a spawned bundle: a fresh, empty module cache and the in-memory job store. */
function bundleEnv(dir: string, extra: Record<string, string>): Record<string, string> {
  return {
    ...extra,
    NO_COLOR: "1",
    FAL_MCP_JOB_STORE: "memory",
    DENO_DIR: `${dir}/deno-dir`,
    HOME: dir,
  };
}

Deno.test("the deno bundle build answers tools/list over stdio and HTTP, offline, with the release permissions", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "fal-mcp-bundle-" });
  try {
    const bundle = await buildBundle(dir);

    await t.step("--version prints the version", async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: runArgs(bundle, "--version"),
        cwd: dir,
        env: bundleEnv(dir, {}),
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.match(stdout, /^fal-mcp \d+\.\d+\.\d+/);
    });

    await t.step("over stdio (v2 client spawning the bundle)", async () => {
      const client = new Client({ name: "bundle-stdio-test", version: "1.0.0" });
      await client.connect(
        new StdioClientTransport({
          command: Deno.execPath(),
          args: runArgs(bundle),
          cwd: dir,
          env: bundleEnv(dir, {}),
          stderr: "pipe",
        }),
      );
      try {
        await assertFalTools(client);
      } finally {
        await client.close();
      }
    });

    await t.step("over HTTP (/mcp), including a model run against the fake fal", async () => {
      await withFakeFal(async (fake) => {
        const child = new Deno.Command(Deno.execPath(), {
          args: runArgs(bundle, "--transport", "http", "--port", "0", "--output-dir", "out"),
          cwd: dir,
          env: bundleEnv(dir, falEnv(fake)),
          clearEnv: true,
          stdin: "null",
          stdout: "null",
          stderr: "piped",
        }).spawn();
        // One branch finds the "listening" line, the other keeps stderr drained (and for errors).
        const [forListening, forLog] = child.stderr.tee();
        const lines: string[] = [];
        const drained = forLog.pipeTo(new WritableStream());
        try {
          const listening = await waitForLogLine(forListening, (r) => r.msg === "listening", lines);
          const url = String(listening.url);
          assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
          const client = new Client({ name: "bundle-http-test", version: "1.0.0" });
          await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
          try {
            await assertFalTools(client);
            await assertImageGenerated((name, args, onprogress) =>
              client.callTool({ name, arguments: args }, { onprogress })
            );
          } finally {
            await client.close();
          }
          // --output-dir: the result was written under the working directory.
          const saved = [...Deno.readDirSync(`${dir}/out`)];
          assert.ok(saved.length > 0, `nothing saved under ${dir}/out:\n${lines.join("\n")}`);
        } finally {
          try {
            child.kill("SIGTERM");
          } catch {
            // already gone; the status below says how
          }
          const status = await child.status;
          await drained.catch(() => {});
          assert.equal(status.code, 0, `the bundle did not stop cleanly:\n${lines.join("\n")}`);
        }
      });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
