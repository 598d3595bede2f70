import { Client as ClientV2 } from "@modelcontextprotocol/client";
import { StdioClientTransport as StdioV2 } from "@modelcontextprotocol/client/stdio";
import assert from "node:assert/strict";
import { mainArgs } from "./helpers/process.ts";
import {
  assertFalTools,
  assertImageGenerated,
  type CallWithProgress,
  falEnv,
  withFakeFal,
} from "./helpers/scenario.ts";
import { Client as ClientV1, StdioClientTransport as StdioV1 } from "./helpers/sdk_v1.ts";

const info = { name: "fal-mcp-stdio-test", version: "1.0.0" };

function serverParams(env: Record<string, string>) {
  return {
    command: Deno.execPath(),
    args: mainArgs(),
    env: {
      ...env,
      NO_COLOR: "1",
      FAL_MCP_JOB_STORE: "memory",
      HOME: Deno.env.get("HOME") ?? "/tmp",
    },
    stderr: "pipe" as const,
  };
}

for (
  const [label, era, options] of [
    ["(2025 handshake)", "legacy", {}],
    ["pinned to 2026-07-28", "modern", { versionNegotiation: { mode: { pin: "2026-07-28" } } }],
  ] as const
) {
  Deno.test(`v2 stdio client ${label} generates an image through the real process`, async () => {
    await withFakeFal(async (fake) => {
      const transport = new StdioV2(serverParams(falEnv(fake)));
      const client = new ClientV2(info, options);
      try {
        await client.connect(transport);
        assert.equal(client.getProtocolEra(), era);
        await assertFalTools(client);
        const call: CallWithProgress = (name, args, onprogress) =>
          client.callTool({ name, arguments: args }, { onprogress, timeout: 30_000 });
        await assertImageGenerated(call);
      } finally {
        await client.close();
      }
    });
  });
}

Deno.test("v1 stdio client generates an image through the real process", async () => {
  await withFakeFal(async (fake) => {
    const transport = new StdioV1(serverParams(falEnv(fake)));
    const client = new ClientV1(info);
    try {
      await client.connect(transport);
      await assertFalTools(client);
      const call: CallWithProgress = (name, args, onprogress) =>
        client.callTool({ name, arguments: args }, undefined, { onprogress, timeout: 30_000 });
      await assertImageGenerated(call);
    } finally {
      await client.close();
    }
  });
});

Deno.test("stdio: stdout carries only JSON-RPC, and the process exits 0 when stdin closes", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: mainArgs(),
    env: { NO_COLOR: "1", FAL_MCP_JOB_STORE: "memory" },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const init = {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: info },
  };
  await writer.write(new TextEncoder().encode(JSON.stringify(init) + "\n"));
  await writer.write(
    new TextEncoder().encode(
      JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }) + "\n",
    ),
  );
  // Read both answers, then close stdin.
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (out.split("\n").filter((l) => l.trim()).length < 2) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  await writer.close();
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  const status = await child.status;
  const stderr = new TextDecoder().decode(
    new Uint8Array(await new Response(child.stderr).arrayBuffer()),
  );
  assert.equal(status.code, 0);
  const lines = out.split("\n").filter((l) => l.trim());
  for (const line of lines) {
    assert.equal(JSON.parse(line).jsonrpc, "2.0", `non-protocol stdout: ${line}`);
  }
  assert.equal(lines.length, 2);
  assert.ok(JSON.parse(lines[1]!).result.tools.length >= 3);
  // Without FAL_KEY the server says so once, on stderr, as a JSON log line.
  const keyWarnings = stderr.split("\n").filter((l) => l.includes("FAL_KEY is not set"));
  assert.equal(keyWarnings.length, 1);
  assert.equal(JSON.parse(keyWarnings[0]!).level, "warn");
});

Deno.test("without FAL_KEY, run_model answers a tool error naming the missing key", async () => {
  const transport = new StdioV2(serverParams({}));
  const client = new ClientV2(info);
  try {
    await client.connect(transport);
    const result = await client.callTool({
      name: "run_model",
      arguments: { endpoint_id: "fal-ai/flux/dev", input: { prompt: "x" } },
    });
    assert.equal(result.isError, true);
    const text = (result.content as { text: string }[])[0]!.text;
    assert.match(text, /FAL_KEY is not set/);
  } finally {
    await client.close();
  }
});
