/**
 * The HTTP server stays bounded under odd and hostile callers: metric labels, stream and
 * in-flight counters, per-client session shares, body read timeouts, slow SSE readers,
 * duplicate in-flight ids, and the protocol details of the errors it writes itself.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import {
  initializeBody,
  modernMeta,
  modernRequest,
  openSession,
  post,
  POST_HEADERS,
  readMessage,
  sessionHeaders,
} from "./helpers/raw_mcp.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import { SseReader } from "./helpers/sse_reader.ts";
import { waitFor } from "./helpers/wait_for.ts";

const TOKEN_A = "token-a-0123456789abcdef";
const TOKEN_B = "token-b-fedcba9876543210";

async function metricsText(url: string): Promise<string> {
  return await (await fetch(`${url}/metrics`)).text();
}

function gauge(text: string, name: string): number {
  const match = new RegExp(`^${name} (-?\\d+)$`, "m").exec(text);
  assert.ok(match, `${name} missing from /metrics`);
  return Number(match[1]);
}

Deno.test("unknown HTTP methods and paths are counted as `other` and do not grow /metrics", async () => {
  const server = await startTestHttpServer();
  try {
    const odd = async (i: number) => {
      const res = await fetch(`${server.url}/health?n=${i}`, { method: `BREW${i}` });
      await res.body?.cancel();
      const lost = await fetch(`${server.url}/no/such/path/${i}`, { method: `X${i}` });
      await lost.body?.cancel();
    };
    await odd(0);
    await metricsText(server.url); // its own request's series exist from now on
    const before = (await metricsText(server.url)).split("\n").length;
    for (let i = 1; i <= 40; i++) await odd(i);
    const after = await metricsText(server.url);
    assert.equal(after.split("\n").length, before, "new series appeared in /metrics");
    assert.doesNotMatch(after, /BREW|X\d|no\/such/);
    assert.match(
      after,
      /fal_mcp_http_requests_total\{method="other",status="405",transport="other"\}/,
    );
  } finally {
    await server.close();
  }
});

Deno.test("dropped SSE streams bring the open-stream and in-flight counters back to 0, and --max-streams still holds", async () => {
  const server = await startTestHttpServer({ args: ["--max-streams", "2"] });
  try {
    for (let i = 0; i < 20; i++) {
      const stream = await fetch(`${server.url}/sse`, { headers: { accept: "text/event-stream" } });
      assert.equal(stream.status, 200);
      const reader = new SseReader(stream.body!);
      assert.equal((await reader.next())?.event, "endpoint");
      await reader.cancel();
    }
    await waitFor(() => server.server.http!.openStreams === 0, "open streams back to 0");
    const text = await metricsText(server.url);
    assert.equal(gauge(text, "fal_mcp_open_streams"), 0);
    assert.equal(gauge(text, "fal_mcp_in_flight_requests"), 1, "only the /metrics request itself");

    const open = [];
    for (let i = 0; i < 2; i++) {
      const stream = await fetch(`${server.url}/sse`, { headers: { accept: "text/event-stream" } });
      assert.equal(stream.status, 200);
      open.push(stream);
    }
    const refused = await fetch(`${server.url}/sse`, { headers: { accept: "text/event-stream" } });
    assert.equal(refused.status, 503);
    await refused.body?.cancel();
    for (const stream of open) await stream.body?.cancel();
    await waitFor(() => server.server.http!.openStreams === 0, "open streams back to 0");
    assert.equal(server.server.http!.inFlight, 0);
  } finally {
    await server.close();
  }
});

Deno.test("--max-in-flight: requests past the cap get 503 with Retry-After while the held ones are served", async () => {
  const server = await startTestHttpServer({
    args: ["--max-in-flight", "2", "--max-streams", "50"],
  });
  try {
    const held = [];
    for (let i = 0; i < 2; i++) {
      held.push(await fetch(`${server.url}/sse`, { headers: { accept: "text/event-stream" } }));
    }
    const { body, headers } = modernRequest("tools/list", {}, 41);
    const refused = await post(`${server.url}/mcp`, body, headers);
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers.get("retry-after")) >= 1);
    assert.match((await refused.json()).error.message, /request slots/);
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200, "health is not subject to admission");
    await health.body?.cancel();
    for (const stream of held) await stream.body?.cancel();
    await waitFor(() => server.server.http!.inFlight === 0, "held requests ended");
    const again = await post(`${server.url}/mcp`, body, headers);
    assert.equal(again.status, 200);
    await again.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("per-client session cap: one token cannot take every session; another token still can", async () => {
  const server = await startTestHttpServer({
    env: { FAL_MCP_AUTH_TOKENS: `${TOKEN_A},${TOKEN_B}` },
    args: ["--max-sessions-per-client", "2"],
  });
  const as = (token: string) => ({ ...POST_HEADERS, authorization: `Bearer ${token}` });
  try {
    const statuses: number[] = [];
    let firstSession = "";
    for (let i = 0; i < 3; i++) {
      const res = await post(
        `${server.url}/mcp`,
        initializeBody("2025-06-18", 10 + i),
        as(TOKEN_A),
      );
      statuses.push(res.status);
      if (i === 0) firstSession = res.headers.get("mcp-session-id") ?? "";
      if (res.status === 503) {
        const error = await res.json();
        assert.match(error.error.message, /already holds 2 sessions/);
        assert.equal(error.id, 12, "the error carries the initialize request's id");
      } else await res.body?.cancel();
    }
    assert.deepEqual(statuses, [200, 200, 503]);
    const other = await post(`${server.url}/mcp`, initializeBody(), as(TOKEN_B));
    assert.equal(other.status, 200);
    await other.body?.cancel();

    // Ending a session gives the share back.
    const ended = await fetch(`${server.url}/mcp`, {
      method: "DELETE",
      headers: {
        ...as(TOKEN_A),
        "mcp-session-id": firstSession,
        "mcp-protocol-version": "2025-06-18",
      },
    });
    assert.equal(ended.status, 200);
    await ended.body?.cancel();
    const again = await post(`${server.url}/mcp`, initializeBody(), as(TOKEN_A));
    assert.equal(again.status, 200);
    await again.body?.cancel();

    // The legacy SSE transport keeps the same share per client.
    const sse = (token: string) =>
      fetch(`${server.url}/sse`, {
        headers: { accept: "text/event-stream", authorization: `Bearer ${token}` },
      });
    const streams = [await sse(TOKEN_A), await sse(TOKEN_A)];
    const third = await sse(TOKEN_A);
    assert.deepEqual([...streams.map((s) => s.status), third.status], [200, 200, 503]);
    await third.body?.cancel();
    const fromB = await sse(TOKEN_B);
    assert.equal(fromB.status, 200);
    for (const stream of [...streams, fromB]) await stream.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("a request body that does not arrive within --read-timeout answers 408", async () => {
  const server = await startTestHttpServer({ args: ["--read-timeout", "1"] });
  try {
    const { body, headers } = modernRequest("tools/list");
    const text = JSON.stringify(body);
    let send!: ReadableStreamDefaultController<Uint8Array>;
    const trickle = new ReadableStream<Uint8Array>({
      start(controller) {
        send = controller;
        controller.enqueue(new TextEncoder().encode(text.slice(0, 10)));
      },
    });
    const res = await fetch(`${server.url}/mcp`, {
      method: "POST",
      headers,
      body: trickle,
    });
    assert.equal(res.status, 408);
    assert.match((await res.json()).error.message, /did not arrive within 1 s/);
    try {
      send.close();
    } catch {
      // the server already closed the connection
    }
    const ok = await post(`${server.url}/mcp`, body, headers);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("a legacy SSE client that never reads is dropped once its queue is full; the server stays bounded", async () => {
  const server = await startTestHttpServer();
  const { port } = new URL(server.url);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET /sse HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`,
      ),
    );
    // Read just the head and the endpoint event, then never read again.
    const buffer = new Uint8Array(4096);
    let head = "";
    while (!head.includes("session_id=")) {
      const n = await conn.read(buffer);
      assert.ok(n, "the stream ended early");
      head += new TextDecoder().decode(buffer.subarray(0, n));
    }
    const sessionId = /session_id=([0-9a-f-]+)/.exec(head)![1]!;
    const messages = `${server.url}/messages/?session_id=${sessionId}`;
    const init = await post(messages, initializeBody("2024-11-05"));
    assert.equal(init.status, 202);
    await init.body?.cancel();
    // Each tools/list answer (tens of KB) is queued for the client that does not read.
    let status = 202;
    let sent = 0;
    for (; sent < 2000 && status === 202; sent++) {
      const res = await post(messages, { jsonrpc: "2.0", id: 100 + sent, method: "tools/list" });
      status = res.status;
      await res.body?.cancel();
    }
    assert.equal(status, 404, `the session was still open after ${sent} answers`);
    await waitFor(() => server.server.http!.sse.sessionCount === 0, "the slow session ended");
    await waitFor(() => server.server.http!.openStreams === 0, "its stream is no longer counted");
  } finally {
    conn.close();
    await server.close();
  }
});

Deno.test("a request id already in flight on a session gets an error; the first call still gets its answer", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const mcp = `${server.url}/mcp`;
    try {
      const session = await openSession(mcp, "2025-11-25");
      const headers = sessionHeaders(session, "2025-11-25");
      const call = (id: number) => ({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: {
          name: "run_model",
          arguments: {
            endpoint_id: "fal-ai/flux/dev",
            input: { prompt: "a heron", fake_duration_ms: 1500 },
            validate: false,
          },
        },
      });
      const first = post(mcp, call(7), headers);
      await waitFor(() => fake.state.jobs.size === 1, "the first call reached fal");
      const duplicate = await post(mcp, { jsonrpc: "2.0", id: 7, method: "tools/list" }, headers);
      assert.equal(duplicate.status, 409);
      const error = await duplicate.json();
      assert.equal(error.id, 7);
      assert.match(error.error.message, /already used by a request still in flight/);
      const answer = await readMessage<{ id: number; result: { isError?: boolean } }>(await first);
      assert.equal(answer.id, 7);
      assert.notEqual(answer.result.isError, true);
      assert.equal(fake.state.jobs.size, 1);
      // Once answered, the id may be used again.
      const reused = await post(mcp, { jsonrpc: "2.0", id: 7, method: "tools/list" }, headers);
      assert.equal(reused.status, 200);
      assert.ok((await readMessage<{ result: { tools: unknown[] } }>(reused)).result.tools.length);
    } finally {
      await server.close();
    }
  });
});

Deno.test("a 2026-07-28 request without clientInfo is served; errors the server writes carry the request id", async () => {
  const server = await startTestHttpServer();
  const mcp = `${server.url}/mcp`;
  try {
    const { body, headers } = modernRequest("tools/list", {}, 31);
    const meta = modernMeta();
    delete meta["io.modelcontextprotocol/clientInfo"];
    const served = await post(mcp, { ...body, params: { _meta: meta } }, headers);
    assert.equal(served.status, 200);
    const answer = await readMessage<{ id: number; result: { tools: unknown[] } }>(served);
    assert.equal(answer.id, 31);
    assert.ok(answer.result.tools.length > 0);

    const noCapabilities = modernMeta();
    delete noCapabilities["io.modelcontextprotocol/clientCapabilities"];
    const invalid = await post(
      mcp,
      { ...body, id: "req-32", params: { _meta: noCapabilities } },
      headers,
    );
    assert.equal(invalid.status, 400);
    assert.equal((await invalid.json()).id, "req-32");

    const unknownSession = await post(
      mcp,
      { jsonrpc: "2.0", id: 33, method: "tools/list" },
      sessionHeaders("no-such-session"),
    );
    assert.equal(unknownSession.status, 404);
    assert.equal((await unknownSession.json()).id, 33);

    const badInit = await post(mcp, { jsonrpc: "2.0", id: 34, method: "initialize", params: {} });
    assert.equal(badInit.status, 400);
    assert.equal((await badInit.json()).id, 34);
  } finally {
    await server.close();
  }
});

Deno.test("notifications/resources/list_changed reaches a 2025 session's GET stream when a job is submitted", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const mcp = `${server.url}/mcp`;
    try {
      const session = await openSession(mcp, "2025-06-18");
      const headers = sessionHeaders(session, "2025-06-18");
      const stream = await fetch(mcp, { headers: { ...headers, accept: "text/event-stream" } });
      assert.equal(stream.status, 200);
      const events = new SseReader(stream.body!);
      const submitted = await post(mcp, {
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: {
          name: "submit_job",
          arguments: { endpoint_id: "fal-ai/flux/dev", input: { prompt: "a lark" } },
        },
      }, headers);
      assert.equal(submitted.status, 200);
      await readMessage(submitted);
      let method: string | undefined;
      for (let i = 0; i < 10 && method !== "notifications/resources/list_changed"; i++) {
        const event = await events.next();
        assert.ok(event, "the GET stream ended");
        if (event.data) method = JSON.parse(event.data).method;
      }
      assert.equal(method, "notifications/resources/list_changed");
      await events.cancel();
    } finally {
      await server.close();
    }
  });
});
