import assert from "node:assert/strict";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http_server.ts";
import { waitFor } from "./helpers/wait_for.ts";
import {
  initializeBody,
  MODERN,
  modernRequest,
  openSession,
  post,
  POST_HEADERS,
  readMessage,
  sessionHeaders,
} from "./helpers/raw_mcp.ts";

async function withServer(
  fn: (server: TestHttpServer, mcp: string) => Promise<void>,
  options: Parameters<typeof startTestHttpServer>[0] = {},
): Promise<void> {
  const server = await startTestHttpServer(options);
  try {
    await fn(server, `${server.url}/mcp`);
  } finally {
    await server.close();
  }
}

async function errorOf(response: Response): Promise<{ code: number; message: string }> {
  const body = await response.json();
  assert.equal(body.jsonrpc, "2.0");
  assert.equal(typeof body.error?.code, "number");
  assert.equal(typeof body.error?.message, "string");
  return body.error;
}

Deno.test("POST /mcp with a non-JSON Content-Type answers 415", async () => {
  await withServer(async (_s, mcp) => {
    const res = await post(mcp, initializeBody(), {
      ...POST_HEADERS,
      "content-type": "text/plain",
    });
    assert.equal(res.status, 415);
    assert.match((await errorOf(res)).message, /Content-Type/);
  });
});

Deno.test("POST /mcp with malformed JSON answers 400 with a parse error", async () => {
  await withServer(async (_s, mcp) => {
    const res = await post(mcp, "{not json");
    assert.equal(res.status, 400);
    assert.equal((await errorOf(res)).code, -32700);
  });
});

Deno.test("POST /mcp with a body over the cap answers 413", async () => {
  await withServer(async (_s, mcp) => {
    const huge = JSON.stringify({ ...initializeBody(), pad: "x".repeat(5 * 1024 * 1024) });
    const res = await post(mcp, huge);
    assert.equal(res.status, 413);
    await errorOf(res);
  });
});

Deno.test("initialize without text/event-stream in Accept answers 406", async () => {
  await withServer(async (_s, mcp) => {
    const res = await post(mcp, initializeBody(), {
      "content-type": "application/json",
      accept: "application/json",
    });
    assert.equal(res.status, 406);
    await errorOf(res);
  });
});

Deno.test("a request with an unknown Mcp-Session-Id answers 404", async () => {
  await withServer(async (_s, mcp) => {
    const res = await post(
      mcp,
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      sessionHeaders("no-such-session"),
    );
    assert.equal(res.status, 404);
    assert.match((await errorOf(res)).message, /Session not found/);
  });
});

Deno.test("PUT /mcp answers 405 with Allow", async () => {
  await withServer(async (_s, mcp) => {
    const res = await fetch(mcp, { method: "PUT" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, POST, DELETE");
    await errorOf(res);
  });
});

Deno.test("GET /mcp without a session answers 405 (the stateless era has no GET stream)", async () => {
  await withServer(async (_s, mcp) => {
    const res = await fetch(mcp, { headers: { accept: "text/event-stream" } });
    assert.equal(res.status, 405);
    await res.body?.cancel();
  });
});

Deno.test("a 2025 session: initialize issues Mcp-Session-Id, tools/list works, DELETE ends it, then 404", async () => {
  await withServer(async (server, mcp) => {
    const id = await openSession(mcp);
    assert.match(id, /^[\x21-\x7e]+$/);
    assert.equal(server.server.http?.streamable.sessionCount, 1);
    const list = await readMessage(
      await post(mcp, { jsonrpc: "2.0", id: 2, method: "tools/list" }, sessionHeaders(id)),
    );
    const tools = (list.result as { tools: { name: string }[] }).tools.map((t) => t.name);
    assert.ok(tools.includes("run_model"));

    const deleted = await fetch(mcp, { method: "DELETE", headers: sessionHeaders(id) });
    assert.equal(deleted.status, 200);
    await deleted.body?.cancel();
    assert.equal(server.server.http?.streamable.sessionCount, 0);

    const after = await post(
      mcp,
      { jsonrpc: "2.0", id: 3, method: "tools/list" },
      sessionHeaders(id),
    );
    assert.equal(after.status, 404);
    await after.body?.cancel();
  });
});

Deno.test("a second initialize on an existing session answers 400", async () => {
  await withServer(async (_s, mcp) => {
    const id = await openSession(mcp);
    const res = await post(mcp, initializeBody("2025-06-18", 9), sessionHeaders(id));
    assert.equal(res.status, 400);
    await errorOf(res);
  });
});

Deno.test("an unsupported MCP-Protocol-Version on a session answers 400", async () => {
  await withServer(async (_s, mcp) => {
    const id = await openSession(mcp);
    const res = await post(
      mcp,
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      { ...sessionHeaders(id), "mcp-protocol-version": "1999-01-01" },
    );
    assert.equal(res.status, 400);
    await errorOf(res);
  });
});

Deno.test("GET /mcp on a session opens the standalone stream; a second one answers 409", async () => {
  await withServer(async (_s, mcp) => {
    const id = await openSession(mcp);
    const headers = { ...sessionHeaders(id), accept: "text/event-stream" };
    const first = await fetch(mcp, { headers });
    assert.equal(first.status, 200);
    assert.match(first.headers.get("content-type") ?? "", /text\/event-stream/);
    const second = await fetch(mcp, { headers });
    assert.equal(second.status, 409);
    await second.body?.cancel();
    await first.body?.cancel();
  });
});

Deno.test("GET /mcp on a session without text/event-stream in Accept answers 406", async () => {
  await withServer(async (_s, mcp) => {
    const id = await openSession(mcp);
    const res = await fetch(mcp, {
      headers: { ...sessionHeaders(id), accept: "application/json" },
    });
    assert.equal(res.status, 406);
    await res.body?.cancel();
  });
});

Deno.test("a session-less 2025 POST is served statelessly", async () => {
  await withServer(async (server, mcp) => {
    const res = await post(mcp, { jsonrpc: "2.0", id: 5, method: "tools/list" }, {
      ...POST_HEADERS,
      "mcp-protocol-version": "2025-06-18",
    });
    assert.equal(res.status, 200);
    const message = await readMessage(res);
    assert.equal(message.id, 5);
    assert.ok(Array.isArray((message.result as { tools: unknown[] }).tools));
    assert.equal(server.server.http?.streamable.sessionCount, 0);
  });
});

Deno.test("a 2026-07-28 server/discover is answered statelessly without a session", async () => {
  await withServer(async (_s, mcp) => {
    const { body, headers } = modernRequest("server/discover");
    const res = await post(mcp, body, headers);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("mcp-session-id"), null);
    const message = await readMessage(res);
    const result = message.result as {
      supportedVersions?: string[];
      serverInfo?: { name: string };
    };
    assert.ok(JSON.stringify(result).includes(MODERN));
    assert.ok(JSON.stringify(result).includes("fal-mcp"));
  });
});

Deno.test("a 2026-07-28 tools/list lists the fal tools", async () => {
  await withServer(async (_s, mcp) => {
    const { body, headers } = modernRequest("tools/list");
    const message = await readMessage(await post(mcp, body, headers));
    const names = (message.result as { tools: { name: string }[] }).tools.map((t) => t.name);
    assert.deepEqual(names.sort(), [
      "cancel_job",
      "edit_image",
      "estimate_cost",
      "generate_image",
      "generate_music",
      "generate_video",
      "get_job",
      "get_model_schema",
      "get_pricing",
      "get_usage",
      "list_jobs",
      "media_action",
      "media_job",
      "recommend_model",
      "remove_background",
      "run_model",
      "search_models",
      "submit_job",
      "text_to_speech",
      "transcribe_audio",
      "upload_file",
      "upscale_image",
    ]);
  });
});

Deno.test("a 2026-07-28 request whose Mcp-Method header disagrees with the body answers 400", async () => {
  await withServer(async (_s, mcp) => {
    const { body, headers } = modernRequest("tools/list");
    const res = await post(mcp, body, { ...headers, "mcp-method": "prompts/list" });
    assert.equal(res.status, 400);
    assert.equal((await readMessage(res) as { error: { code: number } }).error.code, -32020);
  });
});

Deno.test("a 2026-07-28 request whose header version disagrees with _meta answers 400", async () => {
  await withServer(async (_s, mcp) => {
    const { body, headers } = modernRequest("tools/list");
    const res = await post(mcp, body, { ...headers, "mcp-protocol-version": "2025-06-18" });
    assert.equal(res.status, 400);
    await res.body?.cancel();
  });
});

Deno.test("a 2026-era request naming an unsupported revision answers 400 with the supported list", async () => {
  await withServer(async (_s, mcp) => {
    const { body, headers } = modernRequest("tools/list");
    (body.params as { _meta: Record<string, unknown> })._meta[
      "io.modelcontextprotocol/protocolVersion"
    ] = "2099-01-01";
    const res = await post(mcp, body, { ...headers, "mcp-protocol-version": "2099-01-01" });
    assert.equal(res.status, 400);
    const message = await readMessage(res) as { error: { code: number; data?: unknown } };
    assert.equal(message.error.code, -32022);
    assert.ok(JSON.stringify(message.error.data).includes(MODERN));
  });
});

Deno.test("a 2026-07-28 request for an unknown method answers 404 / -32601", async () => {
  await withServer(async (_s, mcp) => {
    const { body, headers } = modernRequest("no/such/method");
    const res = await post(mcp, body, headers);
    assert.equal(res.status, 404);
    assert.equal((await readMessage(res) as { error: { code: number } }).error.code, -32601);
  });
});

Deno.test("a foreign Origin answers 403 on /mcp, /sse and /messages/", async () => {
  await withServer(async (server, mcp) => {
    const evil = { ...POST_HEADERS, origin: "https://evil.example" };
    const res = await post(mcp, initializeBody(), evil);
    assert.equal(res.status, 403);
    assert.match((await errorOf(res)).message, /Origin/);
    const sse = await fetch(`${server.url}/sse`, { headers: { origin: "https://evil.example" } });
    assert.equal(sse.status, 403);
    await sse.body?.cancel();
    const messages = await post(`${server.url}/messages/?session_id=x`, {}, evil);
    assert.equal(messages.status, 403);
    await messages.body?.cancel();
  });
});

Deno.test("a loopback Origin is allowed and gets CORS headers exposing Mcp-Session-Id", async () => {
  await withServer(async (server, mcp) => {
    const origin = "http://localhost:3000";
    const res = await post(mcp, initializeBody(), { ...POST_HEADERS, origin });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("access-control-allow-origin"), origin);
    assert.match(res.headers.get("access-control-expose-headers") ?? "", /mcp-session-id/);
    await res.body?.cancel();
    const preflight = await fetch(`${server.url}/mcp`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST" },
    });
    assert.equal(preflight.status, 204);
    assert.match(
      preflight.headers.get("access-control-allow-headers") ?? "",
      /mcp-protocol-version/,
    );
    await preflight.body?.cancel();
  });
});

Deno.test("a foreign Host header answers 403 when bound to loopback", async () => {
  await withServer(async (_s, mcp) => {
    // fetch forbids setting Host, so speak HTTP/1.1 by hand.
    const { port } = new URL(mcp);
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    const body = JSON.stringify(initializeBody());
    const request =
      `POST /mcp HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\n` +
      `Accept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\n` +
      `Connection: close\r\n\r\n${body}`;
    await conn.write(new TextEncoder().encode(request));
    const reply = await new Response(conn.readable).text();
    assert.match(reply, /^HTTP\/1\.1 403/);
    assert.match(reply, /Host/);
  });
});

Deno.test("--allowed-hosts and --allowed-origins admit a deployment's names", async () => {
  await withServer(async (_s, mcp) => {
    const res = await post(mcp, initializeBody(), {
      ...POST_HEADERS,
      origin: "https://app.example.com",
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }, { args: ["--allowed-origins", "https://app.example.com", "--allowed-hosts", "127.0.0.1"] });
});

Deno.test("when every session is in use, initialize answers 503", async () => {
  await withServer(async (_s, mcp) => {
    await openSession(mcp);
    const res = await post(mcp, initializeBody());
    assert.equal(res.status, 503);
    assert.match((await errorOf(res)).message, /sessions are in use/);
  }, { args: ["--max-sessions", "1"] });
});

Deno.test("an idle session is reaped after its TTL and then answers 404", async () => {
  await withServer(async (server, mcp) => {
    const id = await openSession(mcp);
    await waitFor(() => server.server.http!.streamable.sessionCount === 0, "the reaper");
    const res = await post(
      mcp,
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      sessionHeaders(id),
    );
    assert.equal(res.status, 404);
    await res.body?.cancel();
  }, { overrides: { sessionTtlMs: 300 } });
});

Deno.test("a session with an open stream is not reaped while the stream is open", async () => {
  await withServer(async (server, mcp) => {
    const id = await openSession(mcp);
    const stream = await fetch(mcp, {
      headers: { ...sessionHeaders(id), accept: "text/event-stream" },
    });
    assert.equal(stream.status, 200);
    // Several reaper sweeps pass while the stream is open (sweeps run every 250 ms here).
    const reader = stream.body!.getReader();
    const ping = await reader.read(); // keep-alive comments arrive while we wait
    assert.equal(ping.done, false);
    assert.equal(server.server.http!.streamable.sessionCount, 1);
    await reader.cancel();
  }, { overrides: { sessionTtlMs: 300, keepAliveMs: 1200 } });
});

Deno.test("GET /health answers 200 and /ready reports sessions and version", async () => {
  await withServer(async (server) => {
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    const ready = await fetch(`${server.url}/ready`);
    assert.equal(ready.status, 200);
    const body = await ready.json();
    assert.equal(body.status, "ready");
    assert.equal(typeof body.version, "string");
    assert.deepEqual(body.sessions, { streamable_http: 0, sse: 0 });
    assert.equal(body.fal_key_configured, false);
  });
});

Deno.test("an unknown path answers 404 naming the MCP endpoints", async () => {
  await withServer(async (server) => {
    const res = await fetch(`${server.url}/nope`);
    assert.equal(res.status, 404);
    assert.match((await errorOf(res)).message, /\/mcp/);
  });
});
