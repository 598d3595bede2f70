import assert from "node:assert/strict";
import { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { Client, SSEClientTransport } from "./helpers/sdk_v1.ts";
import {
  createLegacySseHandler,
  type LegacySseHandler,
  type LegacySseHandlerOptions,
} from "../src/transports/sse.ts";
import { LegacySseServerTransport } from "../src/transports/sse_transport.ts";
import { formatSseEvent, SSE_HEADERS, SSE_KEEP_ALIVE } from "../src/transports/sse_frame.ts";

const ECHO_INPUT = z.object({ text: z.string() });
const PROTOCOL_VERSION = "2024-11-05";

/** A test server: the legacy handler behind a tiny router, plus hooks on server lifecycle. */
interface TestServer extends AsyncDisposable {
  readonly base: string;
  readonly handler: LegacySseHandler;
  /** Resolves the next time an MCP server instance fires onclose. */
  nextServerClose(): Promise<void>;
  /** How many MCP server instances have closed. */
  readonly serversClosed: number;
}

interface TestServerOptions extends Partial<Omit<LegacySseHandlerOptions, "factory">> {
  /** Path prefix the router mounts `/sse` and `/messages/` under. */
  prefix?: string;
  /** Awaited by the tool after it sent its progress notification, before it returns. */
  afterProgress?: () => Promise<void>;
}

function startServer(options: TestServerOptions = {}): TestServer {
  const { prefix = "", afterProgress, ...handlerOptions } = options;
  let serversClosed = 0;
  let closeWaiters: Array<() => void> = [];
  const handler = createLegacySseHandler({
    ...handlerOptions,
    factory: () => {
      const server = new McpServer({ name: "sse-test", version: "1.0.0" });
      server.registerTool(
        "echo",
        { description: "Echoes text, reporting progress when asked", inputSchema: ECHO_INPUT },
        async ({ text }, ctx) => {
          const progressToken = ctx.mcpReq._meta?.progressToken;
          if (progressToken !== undefined) {
            await ctx.mcpReq.notify({
              method: "notifications/progress",
              params: { progressToken, progress: 1, total: 2 },
            });
            await afterProgress?.();
          }
          return { content: [{ type: "text", text: `echo: ${text}` }] };
        },
      );
      server.server.onclose = () => {
        serversClosed++;
        const waiters = closeWaiters;
        closeWaiters = [];
        for (const resolve of waiters) resolve();
      };
      return server;
    },
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { pathname } = new URL(req.url);
    if (pathname === `${prefix}/sse`) return handler.handleSse(req);
    if (pathname === `${prefix}/messages/`) return handler.handleMessages(req);
    return new Response("Not found", { status: 404 });
  });
  return {
    base: `http://127.0.0.1:${http.addr.port}`,
    handler,
    nextServerClose: () => new Promise<void>((resolve) => closeWaiters.push(resolve)),
    get serversClosed() {
      return serversClosed;
    },
    async [Symbol.asyncDispose]() {
      await handler.close();
      await http.shutdown();
    },
  };
}

/** One parsed SSE frame: an event, or a comment-only block. */
interface Frame {
  event?: string;
  data?: string;
  comment?: string;
  retry?: number;
}

/** Reads SSE frames from a response body. */
class SseReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.pipeThrough(new TextDecoderStream()).getReader();
  }

  async next(): Promise<Frame> {
    while (true) {
      const end = this.#buffer.indexOf("\n\n");
      if (end !== -1) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        return parseFrame(block);
      }
      const { done, value } = await this.#reader.read();
      if (done) throw new Error("SSE stream ended before a complete frame arrived");
      this.#buffer += value;
    }
  }

  /** Next frame that is an event (skips keep-alive comments). */
  async nextEvent(): Promise<Frame> {
    while (true) {
      const frame = await this.next();
      if (frame.comment === undefined) return frame;
    }
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

function parseFrame(block: string): Frame {
  const frame: Frame = {};
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) {
      frame.comment = line.slice(1).trim();
    } else if (line.startsWith("event:")) {
      frame.event = line.slice(6).trim();
    } else if (line.startsWith("data:")) {
      data.push(line.slice(5).replace(/^ /, ""));
    } else if (line.startsWith("retry:")) {
      frame.retry = Number(line.slice(6).trim());
    }
  }
  if (data.length > 0) frame.data = data.join("\n");
  return frame;
}

/** Opens `GET <path>` and reads the endpoint event. */
async function openStream(
  base: string,
  path = "/sse",
): Promise<{ reader: SseReader; endpoint: string; sessionId: string }> {
  const res = await fetch(`${base}${path}`, { headers: { Accept: "text/event-stream" } });
  assert.equal(res.status, 200);
  assert.ok(res.body);
  const reader = new SseReader(res.body);
  const first = await reader.next();
  assert.equal(first.event, "endpoint");
  assert.ok(first.data);
  const sessionId = new URL(first.data, base).searchParams.get("session_id");
  assert.ok(sessionId);
  return { reader, endpoint: first.data, sessionId };
}

function post(url: string, body: string, contentType = "application/json"): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "Content-Type": contentType }, body });
}

async function jsonRpcErrorOf(res: Response): Promise<{ code: number; message: string }> {
  assert.equal(res.headers.get("content-type"), "application/json");
  const body = await res.json();
  assert.equal(body.jsonrpc, "2.0");
  assert.equal(body.id, null);
  return body.error;
}

const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: {
    protocolVersion: PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: "raw-test", version: "0.0.0" },
  },
});
const INITIALIZED = JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" });

Deno.test("formatSseEvent writes fields in order and splits multi-line data", () => {
  assert.equal(
    formatSseEvent({ event: "message", id: "7", retry: 1000, data: "a\nb\r\nc" }),
    "event: message\nid: 7\nretry: 1000\ndata: a\ndata: b\ndata: c\n\n",
  );
  assert.equal(formatSseEvent({ data: "" }), "data:\n\n");
  assert.equal(SSE_KEEP_ALIVE, ": ping\n\n");
  assert.equal(SSE_HEADERS["Content-Type"], "text/event-stream");
  assert.equal(SSE_HEADERS["Cache-Control"], "no-cache, no-transform");
  assert.equal(SSE_HEADERS["X-Accel-Buffering"], "no");
  assert.equal("Connection" in SSE_HEADERS, false);
});

Deno.test("formatSseEvent rejects line breaks in event and id", () => {
  assert.throws(() => formatSseEvent({ event: "a\nb", data: "x" }), TypeError);
  assert.throws(() => formatSseEvent({ event: "a\rb", data: "x" }), TypeError);
  assert.throws(() => formatSseEvent({ id: "1\n2", data: "x" }), TypeError);
  assert.throws(() => formatSseEvent({ id: "1\r2", data: "x" }), TypeError);
  assert.throws(() => formatSseEvent({ retry: -1, data: "x" }), RangeError);
});

Deno.test("a v1 SDK SSE client connects, lists tools and calls a tool with progress", async () => {
  // The v1 client dispatches notifications a microtask late but settles responses at once, so a
  // progress notification read in the same chunk as its result is dropped (a client-side race;
  // the wire order is checked in a raw test below). The tool therefore returns only once the
  // client has seen its progress.
  let progressSeen!: () => void;
  const seen = new Promise<void>((resolve) => progressSeen = resolve);
  await using server = startServer({ afterProgress: () => seen });
  const client = new Client({ name: "v1-sse-client", version: "1.0.0" });
  const transport = new SSEClientTransport(new URL(`${server.base}/sse`));
  await client.connect(transport);
  try {
    assert.equal(server.handler.sessionCount, 1);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name), ["echo"]);

    const progress: Array<{ progress: number; total?: number }> = [];
    const result = await client.callTool(
      { name: "echo", arguments: { text: "hi" } },
      undefined,
      {
        onprogress: (p) => {
          progress.push({ progress: p.progress, total: p.total });
          progressSeen();
        },
      },
    );
    assert.deepEqual(result.content, [{ type: "text", text: "echo: hi" }]);
    assert.deepEqual(progress, [{ progress: 1, total: 2 }]);
  } finally {
    const closed = server.nextServerClose();
    await client.close();
    await closed;
  }
  assert.equal(server.handler.sessionCount, 0);
});

Deno.test("GET /sse announces the POST endpoint under the mount prefix first", async () => {
  await using server = startServer({ prefix: "/base" });
  const { reader, endpoint, sessionId } = await openStream(server.base, "/base/sse");
  try {
    assert.equal(endpoint, `/base/messages/?session_id=${sessionId}`);
    assert.match(
      sessionId,
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  } finally {
    await reader.cancel();
  }
});

Deno.test("GET /sse answers with SSE headers, and 406 when Accept excludes event streams", async () => {
  await using server = startServer();
  const ok = await fetch(`${server.base}/sse`, { headers: { Accept: "text/event-stream" } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("content-type"), "text/event-stream");
  assert.equal(ok.headers.get("cache-control"), "no-cache, no-transform");
  assert.equal(ok.headers.get("x-accel-buffering"), "no");
  await ok.body?.cancel();

  const refused = await fetch(`${server.base}/sse`, { headers: { Accept: "application/json" } });
  assert.equal(refused.status, 406);
  assert.match((await jsonRpcErrorOf(refused)).message, /Accept/);
});

Deno.test("non-GET on /sse answers 405 with Allow: GET", async () => {
  await using server = startServer();
  const res = await post(`${server.base}/sse`, "{}");
  assert.equal(res.status, 405);
  assert.equal(res.headers.get("allow"), "GET");
  assert.match((await jsonRpcErrorOf(res)).message, /GET/);
});

Deno.test("POST /messages/ rejects bad requests with the right status and JSON-RPC error", async () => {
  await using server = startServer({ prefix: "/base", maxBodyBytes: 1024 });
  const { reader, endpoint } = await openStream(server.base, "/base/sse");
  const url = new URL(endpoint, server.base).href;
  const messages = `${server.base}/base/messages/`;
  try {
    const missing = await post(messages, INITIALIZE);
    assert.equal(missing.status, 400);
    assert.match((await jsonRpcErrorOf(missing)).message, /session_id/);

    const unknown = await post(`${messages}?session_id=${crypto.randomUUID()}`, INITIALIZE);
    assert.equal(unknown.status, 404);
    assert.match((await jsonRpcErrorOf(unknown)).message, /Session not found/);

    const badJson = await post(url, "{not json");
    assert.equal(badJson.status, 400);
    const parseError = await jsonRpcErrorOf(badJson);
    assert.equal(parseError.code, -32700);
    assert.match(parseError.message, /^Parse error: /);

    const notJsonRpc = await post(url, JSON.stringify({ hello: "world" }));
    assert.equal(notJsonRpc.status, 400);
    const invalid = await jsonRpcErrorOf(notJsonRpc);
    assert.equal(invalid.code, -32600);
    assert.match(invalid.message, /jsonrpc/);

    const wrongType = await post(url, INITIALIZE, "text/plain");
    assert.equal(wrongType.status, 415);
    assert.match((await jsonRpcErrorOf(wrongType)).message, /application\/json/);

    const put = await fetch(url, { method: "PUT", body: INITIALIZE });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "POST");
    await jsonRpcErrorOf(put);

    const huge = JSON.stringify({
      jsonrpc: "2.0",
      method: "notifications/x",
      params: { pad: "x".repeat(2048) },
    });
    const tooLarge = await post(url, huge);
    assert.equal(tooLarge.status, 413);
    assert.match((await jsonRpcErrorOf(tooLarge)).message, /1024-byte limit/);

    const chunkedHuge = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: ReadableStream.from([new TextEncoder().encode(huge)]),
    });
    assert.equal(chunkedHuge.status, 413);
    await jsonRpcErrorOf(chunkedHuge);

    // Nothing above reached the session: the stream still works.
    const accepted = await post(url, INITIALIZE);
    assert.equal(accepted.status, 202);
    assert.equal(await accepted.text(), "Accepted");
    const response = await reader.nextEvent();
    assert.equal(response.event, "message");
    assert.equal(JSON.parse(response.data ?? "").id, 1);
  } finally {
    await reader.cancel();
  }
});

Deno.test("a tool call's progress notification precedes its result on the SSE stream", async () => {
  await using server = startServer();
  const { reader, endpoint } = await openStream(server.base);
  const url = new URL(endpoint, server.base).href;
  try {
    assert.equal((await post(url, INITIALIZE)).status, 202);
    const init = JSON.parse((await reader.nextEvent()).data ?? "");
    assert.equal(init.result.protocolVersion, PROTOCOL_VERSION);
    assert.equal((await post(url, INITIALIZED)).status, 202);

    const call = JSON.stringify({
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: { name: "echo", arguments: { text: "wire" }, _meta: { progressToken: "tok" } },
    });
    assert.equal((await post(url, call)).status, 202);
    const first = await reader.nextEvent();
    assert.equal(first.event, "message");
    assert.deepEqual(JSON.parse(first.data ?? ""), {
      jsonrpc: "2.0",
      method: "notifications/progress",
      params: { progressToken: "tok", progress: 1, total: 2 },
    });
    const second = JSON.parse((await reader.nextEvent()).data ?? "");
    assert.equal(second.id, 2);
    assert.deepEqual(second.result.content, [{ type: "text", text: "echo: wire" }]);
  } finally {
    await reader.cancel();
  }
});

Deno.test("the sessionId query parameter works as an alias of session_id", async () => {
  await using server = startServer();
  const { reader, sessionId } = await openStream(server.base);
  try {
    const res = await post(`${server.base}/messages/?sessionId=${sessionId}`, INITIALIZE);
    assert.equal(res.status, 202);
    await res.body?.cancel();
    const response = JSON.parse((await reader.nextEvent()).data ?? "");
    assert.equal(response.id, 1);
    assert.ok(response.result);
  } finally {
    await reader.cancel();
  }
});

Deno.test("a client that disconnects frees its session and closes its MCP server", async () => {
  await using server = startServer();
  const { reader, endpoint } = await openStream(server.base);
  assert.equal(server.handler.sessionCount, 1);
  const closed = server.nextServerClose();
  await reader.cancel();
  await closed;
  assert.equal(server.handler.sessionCount, 0);
  assert.equal(server.serversClosed, 1);

  const late = await post(new URL(endpoint, server.base).href, INITIALIZE);
  assert.equal(late.status, 404);
  await late.body?.cancel();
});

Deno.test("handler.close() ends every open stream and refuses new ones", async () => {
  await using server = startServer();
  const a = await openStream(server.base);
  const b = await openStream(server.base);
  try {
    assert.equal(server.handler.sessionCount, 2);
    await server.handler.close();
    assert.equal(server.handler.sessionCount, 0);
    for (const stream of [a, b]) {
      // A reconnect hint comes first, then the stream ends.
      assert.equal((await stream.reader.next()).retry, 2000);
      await assert.rejects(stream.reader.next(), /ended/);
    }
    const refused = await fetch(`${server.base}/sse`);
    assert.equal(refused.status, 503);
    await refused.body?.cancel();
  } finally {
    await a.reader.cancel();
    await b.reader.cancel();
  }
});

Deno.test("an idle stream receives `: ping` keep-alive comments", async () => {
  await using server = startServer({ keepAliveMs: 20 });
  const { reader } = await openStream(server.base);
  try {
    const frame = await reader.next();
    assert.deepEqual(frame, { comment: "ping" });
  } finally {
    await reader.cancel();
  }
});

Deno.test("GET /sse answers 503 with a JSON body once maxSessions streams are open", async () => {
  await using server = startServer({ maxSessions: 1 });
  const first = await openStream(server.base);
  try {
    const res = await fetch(`${server.base}/sse`, { headers: { Accept: "text/event-stream" } });
    assert.equal(res.status, 503);
    assert.match((await jsonRpcErrorOf(res)).message, /1 SSE sessions/);
    assert.equal(server.handler.sessionCount, 1);
  } finally {
    await first.reader.cancel();
  }
});

Deno.test("cancelling the transport's stream closes it and fires onclose once", async () => {
  const transport = new LegacySseServerTransport({ endpoint: "/base/messages/?x=1" });
  let closes = 0;
  transport.onclose = () => closes++;
  await transport.start();
  const reader = new SseReader(transport.stream);
  const endpoint = await reader.next();
  assert.deepEqual(endpoint, {
    event: "endpoint",
    data: `/base/messages/?x=1&session_id=${transport.sessionId}`,
  });
  await reader.cancel();
  assert.equal(transport.closed, true);
  assert.equal(closes, 1);
  await transport.close();
  assert.equal(closes, 1);
  await assert.rejects(
    transport.send({ jsonrpc: "2.0", method: "notifications/x" }),
    /stream is closed/,
  );
});

Deno.test("GET /sse answers 500 and keeps no session when the factory fails", async () => {
  const handler = createLegacySseHandler({
    factory: () => {
      throw new Error("factory exploded");
    },
  });
  const res = await handler.handleSse(new Request("http://127.0.0.1/sse"));
  assert.equal(res.status, 500);
  assert.match((await jsonRpcErrorOf(res)).message, /could not be started/);
  assert.equal(handler.sessionCount, 0);
  await handler.close();
});

Deno.test("closing the handler tells open streams when to reconnect (retry) before ending them", async () => {
  const handler = createLegacySseHandler({
    factory: () => new McpServer({ name: "retry-test", version: "1.0.0" }),
  });
  const response = await handler.handleSse(
    new Request("http://127.0.0.1/sse", { headers: { accept: "text/event-stream" } }),
  );
  const closing = handler.close();
  const text = await response.text();
  await closing;
  assert.match(text, /^event: endpoint\n/);
  assert.match(text, /\nretry: 2000\n\n$/);
});

Deno.test("a message bigger than the queue cap still reaches a client that reads; one that does not read is dropped", async () => {
  const transport = new LegacySseServerTransport({
    endpoint: "/messages/",
    keepAliveMs: 0,
    maxQueuedBytes: 1024,
  });
  let closed = 0;
  transport.onclose = () => closed++;
  await transport.start();
  const reader = transport.stream.getReader();
  await reader.read(); // the endpoint event
  const big = { jsonrpc: "2.0" as const, id: 1, result: { text: "x".repeat(4096) } };
  await transport.send(big);
  const { value } = await reader.read();
  assert.ok(value && value.byteLength > 4096, "the big answer was delivered");
  assert.equal(closed, 0);
  // Nobody reads from now on: the queue passes the cap and the client is dropped.
  for (let i = 0; i < 100 && !transport.closed; i++) {
    await transport.send({ jsonrpc: "2.0", method: "notifications/message", params: { i } })
      .catch(() => {});
  }
  assert.equal(transport.closed, true);
  assert.equal(closed, 1);
  await assert.rejects(reader.read());
});
