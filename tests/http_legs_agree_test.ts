/**
 * The two MCP HTTP legs (Streamable HTTP at /mcp, legacy SSE at /sse + /messages/) answer the
 * same mistakes with the same status, JSON-RPC code and wording, and log session lifecycle with
 * the same messages and field names.
 */
import assert from "node:assert/strict";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http_server.ts";
import { initializeBody, openSession, post, POST_HEADERS } from "./helpers/raw_mcp.ts";
import { SseReader } from "./helpers/sse_reader.ts";
import { waitFor } from "./helpers/wait_for.ts";

interface RpcError {
  status: number;
  code: number;
  message: string;
}

async function errorOf(response: Response): Promise<RpcError> {
  const body = await response.json();
  assert.equal(body.jsonrpc, "2.0");
  return { status: response.status, code: body.error.code, message: body.error.message };
}

/** Opens a legacy SSE stream; answers its reader and the messages URL. */
async function openLegacy(server: TestHttpServer): Promise<{ reader: SseReader; url: string }> {
  const response = await fetch(`${server.url}/sse`, { headers: { accept: "text/event-stream" } });
  assert.equal(response.status, 200);
  const reader = new SseReader(response.body!);
  const endpoint = await reader.next();
  assert.equal(endpoint?.event, "endpoint");
  return { reader, url: new URL(endpoint.data, server.url).href };
}

async function withBoth(
  fn: (server: TestHttpServer, legacy: { reader: SseReader; url: string }) => Promise<void>,
  options: Parameters<typeof startTestHttpServer>[0] = {},
): Promise<void> {
  const server = await startTestHttpServer(options);
  let legacy: { reader: SseReader; url: string } | undefined;
  try {
    legacy = await openLegacy(server);
    await fn(server, legacy);
  } finally {
    await legacy?.reader.cancel();
    await server.close();
  }
}

Deno.test("both HTTP legs answer a non-JSON Content-Type with the same 415", async () => {
  await withBoth(async (server, legacy) => {
    const headers = { ...POST_HEADERS, "content-type": "text/plain" };
    const mcp = await errorOf(await post(`${server.url}/mcp`, initializeBody(), headers));
    const sse = await errorOf(await post(legacy.url, initializeBody(), headers));
    assert.equal(mcp.status, 415);
    assert.deepEqual(sse, mcp);
    assert.match(mcp.message, /^Unsupported Media Type: Content-Type must be application\/json/);
  });
});

Deno.test("both HTTP legs answer invalid JSON with the same 400 parse error", async () => {
  await withBoth(async (server, legacy) => {
    const mcp = await errorOf(await post(`${server.url}/mcp`, "{nope"));
    const sse = await errorOf(await post(legacy.url, "{nope"));
    assert.deepEqual(sse, mcp);
    assert.equal(mcp.status, 400);
    assert.equal(mcp.code, -32700);
  });
});

Deno.test("both HTTP legs answer a body over the cap with the same 413", async () => {
  await withBoth(async (server, legacy) => {
    const huge = JSON.stringify({ ...initializeBody(), pad: "x".repeat(2048) });
    const mcp = await errorOf(await post(`${server.url}/mcp`, huge));
    const sse = await errorOf(await post(legacy.url, huge));
    assert.deepEqual(sse, mcp);
    assert.equal(mcp.status, 413);
    assert.match(mcp.message, /1024-byte limit/);
  }, { overrides: { maxBodyBytes: 1024 } });
});

Deno.test("both HTTP legs answer a wrong method with 405, -32600, Allow and the same wording", async () => {
  await withBoth(async (server, legacy) => {
    const mcpResponse = await fetch(`${server.url}/mcp`, { method: "PUT" });
    const sseResponse = await fetch(legacy.url, { method: "PUT" });
    const openResponse = await fetch(`${server.url}/sse`, { method: "POST" });
    assert.equal(mcpResponse.headers.get("allow"), "GET, POST, DELETE");
    assert.equal(sseResponse.headers.get("allow"), "POST");
    assert.equal(openResponse.headers.get("allow"), "GET");
    const answers = [
      await errorOf(mcpResponse),
      await errorOf(sseResponse),
      await errorOf(openResponse),
    ];
    for (const answer of answers) {
      assert.equal(answer.status, 405);
      assert.equal(answer.code, -32600);
      assert.match(answer.message, /^Method Not Allowed: \/\S+ accepts [A-Z, ]+$/);
    }
  });
});

Deno.test("both HTTP legs answer an unknown session with 404, -32001 and the same wording", async () => {
  await withBoth(async (server, legacy) => {
    const mcp = await errorOf(
      await post(`${server.url}/mcp`, { jsonrpc: "2.0", id: 1, method: "ping" }, {
        ...POST_HEADERS,
        "mcp-session-id": "no-such-session",
        "mcp-protocol-version": "2025-06-18",
      }),
    );
    const unknown = new URL(legacy.url);
    unknown.searchParams.set("session_id", "no-such-session");
    const sse = await errorOf(await post(unknown.href, { jsonrpc: "2.0", id: 1, method: "ping" }));
    for (const answer of [mcp, sse]) {
      assert.equal(answer.status, 404);
      assert.equal(answer.code, -32001);
      assert.match(answer.message, /^Session not found: it never existed, has ended or expired; /);
    }
  });
});

Deno.test("both HTTP legs refuse a caller over its session share with the same 503", async () => {
  await withBoth(async (server) => {
    await openSession(`${server.url}/mcp`);
    const mcp = await post(`${server.url}/mcp`, initializeBody());
    const sse = await fetch(`${server.url}/sse`, { headers: { accept: "text/event-stream" } });
    assert.equal(mcp.headers.get("retry-after"), "5");
    assert.equal(sse.headers.get("retry-after"), "5");
    const answers = [await errorOf(mcp), await errorOf(sse)];
    for (const answer of answers) {
      assert.equal(answer.status, 503);
      assert.equal(answer.code, -32603);
      assert.match(
        answer.message,
        /^Server busy: this client already holds 1 (SSE )?sessions \(the most one client may hold\); /,
      );
    }
  }, { overrides: { maxSessionsPerClient: 1 } });
});

Deno.test("both HTTP legs log session start and end with the same messages and field names", async () => {
  const lines: string[] = [];
  const server = await startTestHttpServer({ logLines: lines });
  try {
    const legacy = await openLegacy(server);
    const sessionId = new URL(legacy.url).searchParams.get("session_id")!;
    const mcpSession = await openSession(`${server.url}/mcp`);
    const ended = await fetch(`${server.url}/mcp`, {
      method: "DELETE",
      headers: { "mcp-session-id": mcpSession, "mcp-protocol-version": "2025-06-18" },
    });
    await ended.body?.cancel();
    await legacy.reader.cancel();
    const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const find = (msg: string, id: string) =>
      records().find((r) => r.msg === msg && r.session_id === id);
    await waitFor(() => find("session ended", sessionId) !== undefined, "the SSE session ended");
    for (const [transport, id] of [["sse", sessionId], ["streamable_http", mcpSession]]) {
      for (const msg of ["session started", "session ended"]) {
        const record = find(msg, id!);
        assert.ok(record, `${transport} logs "${msg}" with session_id`);
        assert.equal(record.transport, transport);
        assert.equal(record.level, "info");
      }
    }
    assert.ok(!records().some((r) => "sessionId" in r), "no camelCase session field is logged");
  } finally {
    await server.close();
  }
});
