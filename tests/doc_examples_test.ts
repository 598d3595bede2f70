/**
 * The library entry's example runs as written, offline: `deno test --doc` executes the example at
 * the top of mod.ts (and of config.ts) in a fresh process whose fal hosts point at a closed local
 * port, so an example that reached out to fal (or anywhere) would fail. `deno task check`
 * type-checks every documentation example; this runs the ones a newcomer copies first.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("the examples at the top of mod.ts and config.ts run offline and pass", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--doc", "-A", "--config", `${ROOT}deno.json`, "mod.ts", "src/config.ts"],
    cwd: ROOT,
    // The caller's environment (Deno's cache), minus any fal key, with fal pointed nowhere.
    env: { NO_COLOR: "1", FAL_BASE_URL: `http://127.0.0.1:${port}`, FAL_KEY: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, text);
  assert.match(text, /ok \| 2 passed \| 0 failed/, text);
  assert.match(text, /200 \{ status: "ok"/, "the mod.ts example reached its server");
});

Deno.test("deno doc --lint finds nothing to complain about in the public entry points", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", "--config", `${ROOT}deno.json`, "main.ts", "mod.ts"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
});
