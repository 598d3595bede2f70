import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableV2,
} from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import {
  assertFalTools,
  assertImageGenerated,
  type CallWithProgress,
  falEnv,
  withFakeFal,
} from "./helpers/scenario.ts";
import {
  Client as ClientV1,
  SSEClientTransport,
  StreamableHTTPClientTransport as StreamableV1,
} from "./helpers/sdk_v1.ts";

const info = { name: "fal-mcp-test", version: "1.0.0" };

function v2Call(client: ClientV2): CallWithProgress {
  return (name, args, onprogress) =>
    client.callTool({ name, arguments: args }, { onprogress, timeout: 30_000 });
}

function v1Call(client: ClientV1): CallWithProgress {
  return (name, args, onprogress) =>
    client.callTool({ name, arguments: args }, undefined, { onprogress, timeout: 30_000 });
}

Deno.test("v2 client pinned to 2026-07-28 lists tools and generates an image over /mcp", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const client = new ClientV2(info, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    try {
      await client.connect(new StreamableV2(new URL(`${server.url}/mcp`)));
      assert.equal(client.getProtocolEra(), "modern");
      await assertFalTools(client);
      await assertImageGenerated(v2Call(client));
      assert.equal(server.server.http?.streamable.sessionCount, 0, "2026 traffic keeps no session");
    } finally {
      await client.close();
      await server.close();
    }
  });
});

Deno.test("v2 client in legacy mode opens a 2025 session and generates an image over /mcp", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const client = new ClientV2(info);
    const transport = new StreamableV2(new URL(`${server.url}/mcp`));
    try {
      await client.connect(transport);
      assert.equal(client.getProtocolEra(), "legacy");
      assert.ok(transport.sessionId, "a 2025 client gets a session");
      await assertFalTools(client);
      await assertImageGenerated(v2Call(client));
      await transport.terminateSession();
      assert.equal(server.server.http?.streamable.sessionCount, 0);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

Deno.test("v2 client with auto negotiation picks 2026-07-28 against /mcp", async () => {
  const server = await startTestHttpServer();
  const client = new ClientV2(info, { versionNegotiation: { mode: "auto" } });
  try {
    await client.connect(new StreamableV2(new URL(`${server.url}/mcp`)));
    assert.equal(client.getProtocolEra(), "modern");
    assert.equal(client.getNegotiatedProtocolVersion(), "2026-07-28");
    await assertFalTools(client);
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("v1 SDK Streamable HTTP client generates an image over /mcp", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const client = new ClientV1(info);
    try {
      await client.connect(new StreamableV1(new URL(`${server.url}/mcp`)));
      await assertFalTools(client);
      await assertImageGenerated(v1Call(client));
    } finally {
      await client.close();
      await server.close();
    }
  });
});

Deno.test("v1 SDK SSE client generates an image over legacy /sse", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const client = new ClientV1(info);
    try {
      await client.connect(new SSEClientTransport(new URL(`${server.url}/sse`)));
      assert.equal(server.server.http?.sse.sessionCount, 1);
      await assertFalTools(client);
      await assertImageGenerated(v1Call(client));
    } finally {
      await client.close();
      await server.close();
    }
  });
});
