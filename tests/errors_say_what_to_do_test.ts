/**
 * The errors a newcomer meets first are one sentence that says what to do: a busy port (server,
 * demo and fake), missing Deno permissions, an unknown task name in `--model`, a fal key that fal
 * refuses (with the server's key and with each client's own key).
 *
 * @module
 */

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { TASK_MODEL_KEYS } from "../src/task_models.ts";
import { runDeno, runMain } from "./helpers/process.ts";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { withFakeFal } from "./helpers/scenario.ts";
import { withTempDir } from "./helpers/temp_dir.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Runs a script of this repository with the given Deno flags; answers code and output. */
async function runScript(denoFlags: string[], script: string, args: string[]) {
  // Deno's own cache stays the caller's, so the child starts warm.
  const cache = ["HOME", "DENO_DIR", "XDG_CACHE_HOME"].flatMap((name) => {
    const value = Deno.env.get(name);
    return value === undefined ? [] : [[name, value]];
  });
  return await runDeno(
    ["run", ...denoFlags, "--quiet", "--config", `${ROOT}deno.json`, `${ROOT}${script}`, ...args],
    { NO_COLOR: "1", FAL_MCP_JOB_STORE: "memory", ...Object.fromEntries(cache) },
  );
}

/** Asserts `stderr` is exactly one line matching `pattern`, with no stack trace. */
function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /^\s+at /m);
}

for (
  const [what, script, args] of [
    ["the server (deno task start)", "main.ts", ["--transport", "http"]],
    ["deno task demo", "tests/fake_fal/demo.ts", []],
    ["the fake fal", "tests/fake_fal/main.ts", []],
  ] as const
) {
  Deno.test(`${what}: a busy port is one line naming the address and --port, exit 2`, async () => {
    const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = (holder.addr as Deno.NetAddr).port;
      const { code, stdout, stderr } = await runScript(["-A"], script, [
        ...args,
        "--port",
        String(port),
      ]);
      assert.equal(code, 2, stderr);
      assert.equal(stdout, "");
      assertOneLine(
        stderr,
        new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use.*--port`),
      );
    } finally {
      holder.close();
    }
  });
}

Deno.test("missing Deno permissions are one message naming each of them and -A, exit 2", async () => {
  const { code, stdout, stderr } = await runScript(["--allow-net"], "main.ts", []);
  assert.equal(code, 2, stderr);
  assert.equal(stdout, "");
  assertOneLine(
    stderr,
    /^fal-mcp: Missing Deno permissions --allow-env, --allow-read, --allow-write: run with --allow-net --allow-env --allow-read --allow-write \(or -A\)/,
  );
});

Deno.test("permissions narrowed to the state folder count; only the missing one is named", async () => {
  await withTempDir(async (dir) => {
    const { code, stderr } = await runScript(
      ["--allow-net", "--allow-env", `--allow-read=${dir}`],
      "main.ts",
      ["--job-store", "sqlite", "--state-dir", dir],
    );
    assert.equal(code, 2, stderr);
    assertOneLine(stderr, /^fal-mcp: Missing Deno permission --allow-write: run with/);
  });
});

Deno.test("--model with an unknown task name is refused, listing the task names", async () => {
  const { code, stderr } = await runMain(["--model", "make_image=fal-ai/flux/dev"]);
  assert.equal(code, 2);
  assertOneLine(
    stderr,
    new RegExp(
      `^fal-mcp: Invalid --model "make_image=fal-ai/flux/dev": there is no task "make_image"; ` +
        `the tasks are ${TASK_MODEL_KEYS.join(", ")}$`,
    ),
  );
  const fromEnv = await runMain([], { FAL_MCP_MODEL_MAKE_IMAGE: "fal-ai/flux/dev" });
  assert.equal(fromEnv.code, 2);
  assertOneLine(fromEnv.stderr, /^fal-mcp: Invalid FAL_MCP_MODEL_MAKE_IMAGE: there is no task/);
});

Deno.test("every task name --model accepts is a task tool's model key, and back", async () => {
  const keys = new Set<string>();
  for await (const entry of Deno.readDir(new URL("../src/tools/tasks/", import.meta.url))) {
    const source = await Deno.readTextFile(
      new URL(`../src/tools/tasks/${entry.name}`, import.meta.url),
    );
    for (const match of source.matchAll(/\bkey: "([a-z_]+)"/g)) keys.add(match[1]!);
  }
  assert.deepEqual([...keys].sort(), [...TASK_MODEL_KEYS].sort());
});

/** Calls a tool through a real v2 client; answers the text of its result. */
async function toolText(
  url: string,
  name: string,
  args: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ isError: boolean; text: string }> {
  const client = new Client({ name: "key-test", version: "1.0.0" });
  try {
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }),
    );
    const result = await client.callTool({ name, arguments: args }) as {
      isError?: boolean;
      content: { type: string; text?: string }[];
    };
    return {
      isError: result.isError === true,
      text: result.content.map((c) => c.text ?? "").join("\n"),
    };
  } finally {
    await client.close();
  }
}

const WRONG_KEY = "wrong-key-id:wrong-key-secret";

Deno.test("a fal key that fal rejects is named as the problem (check FAL_KEY), whatever the step", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({
      env: { FAL_KEY: WRONG_KEY, FAL_BASE_URL: fake.url },
    });
    try {
      for (
        const [name, args] of [
          ["search_models", { query: "flux" }],
          ["run_model", { endpoint_id: "fal-ai/flux/dev", input: { prompt: "a fox" } }],
          ["get_pricing", { endpoint_ids: ["fal-ai/flux/dev"] }],
        ] as const
      ) {
        const { isError, text } = await toolText(server.url, name, args);
        assert.ok(isError, `${name}: ${text}`);
        assert.match(
          text,
          /fal rejected the API key \(fal answered 401: .*\): check FAL_KEY/,
          name,
        );
        assert.doesNotMatch(text, /Cannot list fal models/, name);
        assert.ok(!text.includes(WRONG_KEY), name);
      }
    } finally {
      await server.close();
    }
  }, { keys: ["the-right-key-id:the-right-secret"] });
});

Deno.test("with --byok, a client's rejected key is named as theirs, pointing at X-Fal-Key", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ args: ["--byok"], env: { FAL_BASE_URL: fake.url } });
    try {
      const { isError, text } = await toolText(
        server.url,
        "run_model",
        { endpoint_id: "fal-ai/flux/dev", input: { prompt: "a fox" } },
        { "x-fal-key": WRONG_KEY },
      );
      assert.ok(isError, text);
      assert.match(text, /fal rejected the API key .*check the key your client sends in X-Fal-Key/);
      assert.doesNotMatch(text, /FAL_KEY/);
      assert.ok(!text.includes(WRONG_KEY));
    } finally {
      await server.close();
    }
  }, { keys: ["the-right-key-id:the-right-secret"] });
});
