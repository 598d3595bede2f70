/**
 * stdio lines are capped: a line over the cap is answered with a JSON-RPC error (carrying its
 * id) and the real server process goes on reading the next line.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mainArgs } from "./helpers/process.ts";
import { initializeBody } from "./helpers/raw_mcp.ts";

const CAP = 10 * 1024 * 1024;

/** Reads JSON lines from the child's stdout. */
async function* lines(stdout: ReadableStream<Uint8Array>): AsyncGenerator<Record<string, unknown>> {
  let buffer = "";
  for await (const chunk of stdout.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim()) yield JSON.parse(line);
    }
  }
}

Deno.test("stdio: a line over the 10 MiB cap gets a JSON-RPC error and the next line is served", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: mainArgs(),
    env: { FAL_MCP_JOB_STORE: "memory", NO_COLOR: "1", HOME: Deno.env.get("HOME") ?? "/tmp" },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  const send = (message: unknown) => writer.write(encoder.encode(JSON.stringify(message) + "\n"));
  const answers = lines(child.stdout);
  try {
    await send(initializeBody("2025-06-18", 1));
    const init = (await answers.next()).value!;
    assert.equal(init.id, 1);
    await send({ jsonrpc: "2.0", method: "notifications/initialized" });

    const huge = JSON.stringify({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "search_models", arguments: { query: "x".repeat(CAP + 1024) } },
    });
    await writer.write(encoder.encode(huge + "\n"));
    await send({ jsonrpc: "2.0", id: 3, method: "tools/list" });

    const refused = (await answers.next()).value!;
    assert.equal(refused.id, 2);
    const error = refused.error as { code: number; message: string };
    assert.equal(error.code, -32600);
    assert.match(error.message, /line limit/);
    const listed = (await answers.next()).value!;
    assert.equal(listed.id, 3);
    assert.ok((listed.result as { tools: unknown[] }).tools.length > 0);

    // A line that is not JSON gets a parse error, and serving goes on.
    await writer.write(encoder.encode("this is not json\n"));
    const parse = (await answers.next()).value!;
    assert.equal((parse.error as { code: number }).code, -32700);
    await send({ jsonrpc: "2.0", id: 4, method: "ping" });
    assert.equal((await answers.next()).value!.id, 4);
  } finally {
    await writer.close().catch(() => {});
    await answers.return(undefined);
    const status = await child.status;
    assert.equal(status.code, 0);
  }
});
