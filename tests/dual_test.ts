import { Client as ClientV2, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import assert from "node:assert/strict";
import { mainArgs, waitForLogLine } from "./helpers/process.ts";
import { assertFalTools, assertImageGenerated, falEnv, withFakeFal } from "./helpers/scenario.ts";

Deno.test("--transport dual: one process answers on stdio and on HTTP", async () => {
  await withFakeFal(async (fake) => {
    const stdio = new StdioClientTransport({
      command: Deno.execPath(),
      args: mainArgs("--transport", "dual", "--port", "0"),
      env: { ...falEnv(fake), NO_COLOR: "1", FAL_MCP_JOB_STORE: "memory" },
      stderr: "pipe",
    });
    const viaStdio = new ClientV2({ name: "dual-stdio", version: "1.0.0" });
    const viaHttp = new ClientV2({ name: "dual-http", version: "1.0.0" }, {
      versionNegotiation: { mode: { pin: "2026-07-28" } },
    });
    try {
      const stderr = stdio.stderr!;
      await viaStdio.connect(stdio); // spawns the process
      const listening = await waitForLogLine(
        ReadableStream.from(stderr as unknown as AsyncIterable<Uint8Array>),
        (r) => r.msg === "listening",
      );
      const url = String(listening.url);
      await assertFalTools(viaStdio);
      await viaHttp.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
      await assertFalTools(viaHttp);
      await assertImageGenerated((name, args, onprogress) =>
        viaHttp.callTool({ name, arguments: args }, { onprogress, timeout: 30_000 })
      );
      await assertImageGenerated((name, args, onprogress) =>
        viaStdio.callTool({ name, arguments: args }, { onprogress, timeout: 30_000 })
      );
      const ready = await fetch(`${url}/ready`);
      assert.equal((await ready.json()).status, "ready");
    } finally {
      await viaHttp.close();
      await viaStdio.close();
    }
  });
});
