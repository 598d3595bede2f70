/**
 * The fast 2026-07-28 engine (src/transports/fast_path.ts): its answers are the SDK's answers,
 * it streams progress and notices a client leaving, it hands anything unusual to the SDK, and
 * two callers' concurrent calls never cross even though each caller's server is reused.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FalClient } from "../src/fal/client.ts";
import { resolveFalHosts } from "../src/fal/hosts.ts";
import { SchemaCache } from "../src/fal/schema_cache.ts";
import { MediaFetcher } from "../src/files/media_fetch.ts";
import { FalStorage } from "../src/fal/storage.ts";
import { JobManager } from "../src/jobs/manager.ts";
import { fromAuthInfo, LOCAL, type Principal } from "../src/principal.ts";
import { McpServer } from "@modelcontextprotocol/server";
import { recordTools } from "../src/tool_catalog.ts";
import { MemoryJobStore } from "../src/jobs/memory_store.ts";
import { silentLogger } from "../src/log.ts";
import { createServer, type ServerDeps } from "../src/server.ts";
import {
  createStreamableHttpHandler,
  type StreamableHttpHandler,
} from "../src/transports/streamable_http.ts";
import type { FakeFal } from "./fake_fal/server.ts";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { modernRequest } from "./helpers/raw_mcp.ts";
import { TEST_FAL_KEY, withFakeFal } from "./helpers/scenario.ts";

const KEY_ALICE = "alice-key-id:alice-secret-0001";
const KEY_BOB = "bob-key-id:bob-secret-0002";

/** Every SSE `data:` message of a body (or the one JSON message). */
function messagesOf(
  text: string,
  contentType: string | null,
): Record<string, unknown>[] {
  if (!contentType?.includes("text/event-stream")) return [JSON.parse(text)];
  return text.split("\n").filter((line) => line.startsWith("data: ") && line.length > 6)
    .map((line) => JSON.parse(line.slice(6)));
}

async function rpc(
  url: string,
  method: string,
  params: Record<string, unknown>,
  id: number | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; messages: Record<string, unknown>[] }> {
  const request = modernRequest(method, params, id);
  const response = await fetch(`${url}/mcp`, {
    method: "POST",
    headers: { ...request.headers, ...headers },
    body: JSON.stringify(request.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    messages: messagesOf(text, response.headers.get("content-type")),
  };
}

function depsFor(fake: FakeFal, key: string): ServerDeps {
  const hosts = resolveFalHosts(fake.url);
  const fal = new FalClient({ hosts, key });
  return {
    fal,
    storage: new FalStorage({ fal, hosts }),
    media: new MediaFetcher({ maxBytes: 1024 * 1024, falBaseUrl: fake.url }),
    schemas: new SchemaCache(),
    jobs: new JobManager({ store: new MemoryJobStore(), logger: silentLogger }),
    logger: silentLogger,
    principal: LOCAL,
    settings: {
      inlineMaxBytes: 0,
      outputDir: undefined,
      saveBaseDir: undefined,
      syncWaitMs: 30_000,
      models: {},
      localFiles: { kind: "none" },
    },
  };
}

/** Serves one handler on a free loopback port. */
function serveHandler(
  handler: StreamableHttpHandler,
): { url: string; close(): Promise<void> } {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => handler.fetch(request),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      await handler.close();
      await server.shutdown();
    },
  };
}

/** The handler options the tests share (a factory added by each). */
const HANDLER_OPTIONS = {
  logger: silentLogger,
  maxSessions: 10,
  sessionTtlMs: 60_000,
  keepAliveMs: 15_000,
};

/** Two servers of the same deps: one with the fast paths, one answering through the SDK only. */
function fastAndSdk(
  deps: ServerDeps,
): { fast: ReturnType<typeof serveHandler>; sdk: ReturnType<typeof serveHandler> } {
  const factory = () => createServer(deps);
  return {
    fast: serveHandler(createStreamableHttpHandler({ ...HANDLER_OPTIONS, factory })),
    sdk: serveHandler(
      createStreamableHttpHandler({ ...HANDLER_OPTIONS, factory, fastPath: false }),
    ),
  };
}

/** A result with its per-process identity left out, for comparing two servers. */
function comparable(message: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(message));
}

Deno.test("the fast engine answers tools/list and tools/call exactly as the SDK leg does", async () => {
  await withFakeFal(async (fake) => {
    const deps = depsFor(fake, TEST_FAL_KEY);
    const { fast, sdk } = fastAndSdk(deps);
    try {
      const calls: [string, Record<string, unknown>][] = [
        ["tools/list", {}],
        ["tools/call", { name: "list_jobs", arguments: {} }],
        ["tools/call", { name: "list_jobs", arguments: { limit: 0 } }], // input error
        ["tools/call", {
          name: "get_job",
          arguments: { job_id: "no-such-job" },
        }], // tool error
        ["tools/call", { name: "search_models", arguments: { query: "flux" } }],
        ["tools/call", { name: "no_such_tool", arguments: {} }], // handed to the SDK
      ];
      for (const [method, params] of calls) {
        for (const id of [7, "call-7"]) {
          const a = await rpc(fast.url, method, params, id);
          const b = await rpc(sdk.url, method, params, id);
          const label = `${method} ${JSON.stringify(params)} id ${JSON.stringify(id)}`;
          assert.equal(a.status, b.status, label);
          assert.deepEqual(
            a.messages.map(comparable),
            b.messages.map(comparable),
            label,
          );
          assert.equal(a.messages.at(-1)?.id, id, label);
        }
      }
    } finally {
      await fast.close();
      await sdk.close();
      await deps.jobs.close();
    }
  });
});

Deno.test("the fast engine streams progress of a long call on the call's own stream (a client leaving cancels: cancellation_test.ts)", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({
      env: { FAL_BASE_URL: fake.url, FAL_KEY: TEST_FAL_KEY },
    });
    try {
      const request = modernRequest("tools/call", {
        name: "run_model",
        arguments: {
          endpoint_id: "fal-ai/flux/schnell",
          input: { prompt: "slow", fake_duration_ms: 600 },
          validate: false,
        },
      });
      (request.body.params as { _meta: Record<string, unknown> })._meta
        .progressToken = "tok";
      const response = await fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: request.headers,
        body: JSON.stringify(request.body),
      });
      assert.equal(response.headers.get("content-type"), "text/event-stream");
      const messages = messagesOf(await response.text(), "text/event-stream");
      const progress = messages.filter((m) => m.method === "notifications/progress");
      assert.ok(
        progress.length >= 2,
        `expected progress, got ${JSON.stringify(messages)}`,
      );
      assert.ok(
        progress.every((m) => (m.params as { progressToken: unknown }).progressToken === "tok"),
      );
      const result = messages.at(-1) as {
        id: unknown;
        result: { isError?: boolean };
      };
      assert.equal(result.id, 1);
      assert.notEqual(result.result.isError, true, JSON.stringify(result));
    } finally {
      await server.close();
    }
  });
});

Deno.test("two callers' interleaved concurrent calls through the fast engine never cross", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({
      env: { FAL_BASE_URL: fake.url, FAL_KEY: "server-key-never-used-01" },
      args: ["--byok"],
    });
    const callers: {
      name: string;
      key: string;
      headers: Record<string, string>;
    }[] = [
      { name: "alice", key: KEY_ALICE, headers: { "x-fal-key": KEY_ALICE } },
      {
        name: "bob",
        key: KEY_BOB,
        headers: { authorization: `Key ${KEY_BOB}` },
      },
    ];
    try {
      // Each caller submits jobs of its own.
      const own = new Map<string, Set<string>>();
      for (const caller of callers) {
        own.set(caller.name, new Set());
        for (let i = 0; i < 3; i++) {
          const { messages } = await rpc(
            server.url,
            "tools/call",
            {
              name: "submit_job",
              arguments: {
                endpoint_id: "fal-ai/flux/schnell",
                input: { prompt: `${caller.name} ${i}` },
              },
            },
            i,
            caller.headers,
          );
          const result = messages.at(-1)?.result as {
            structuredContent?: { job_id?: string };
          };
          assert.ok(result.structuredContent?.job_id, JSON.stringify(messages));
          own.get(caller.name)!.add(result.structuredContent.job_id);
        }
      }
      // Then both call at once, interleaved, every call with the same JSON-RPC id, some with
      // progress flowing: every answer holds only its caller's jobs and its own progress token.
      const rounds = Array.from({ length: 24 }, (_, i) => {
        const caller = callers[i % 2]!;
        if (i % 4 < 2) {
          return rpc(
            server.url,
            "tools/call",
            { name: "list_jobs", arguments: {} },
            1,
            caller.headers,
          )
            .then((answer) => ({ caller, kind: "list", answer }));
        }
        const params = {
          name: "run_model",
          arguments: {
            endpoint_id: "fal-ai/flux/schnell",
            input: { prompt: `${caller.name} run ${i}`, fake_duration_ms: 300 },
            validate: false,
          },
          _meta: { progressToken: `${caller.name}-${i}` },
        };
        return rpcWithMeta(server.url, params, caller.headers)
          .then((answer) => ({ caller, kind: `run ${i}`, answer }));
      });
      for (const { caller, kind, answer } of await Promise.all(rounds)) {
        const other = callers.find((c) => c !== caller)!;
        const text = JSON.stringify(answer.messages);
        assert.ok(
          !text.includes(other.key) && !text.includes(caller.key),
          `a key leaked (${kind})`,
        );
        assert.ok(
          !text.includes(`"${other.name} `),
          `${caller.name} saw ${other.name}'s data: ${text}`,
        );
        for (const id of own.get(other.name)!) {
          assert.ok(
            !text.includes(id),
            `${caller.name} saw ${other.name}'s job ${id} (${kind})`,
          );
        }
        if (kind === "list") {
          const result = answer.messages.at(-1)?.result as {
            structuredContent: { jobs: { job_id: string }[] };
          };
          const ids = result.structuredContent.jobs.map((j) => j.job_id);
          for (const id of own.get(caller.name)!) {
            assert.ok(ids.includes(id), `${caller.name} lost ${id}`);
          }
        } else {
          const tokens = answer.messages.filter((m) => m.method === "notifications/progress")
            .map((m) => (m.params as { progressToken: string }).progressToken);
          assert.ok(
            tokens.length > 0,
            `no progress for ${caller.name} ${kind}`,
          );
          assert.ok(
            tokens.every((t) => t.startsWith(`${caller.name}-`)),
            `${kind}: ${tokens}`,
          );
          const result = answer.messages.at(-1)?.result as {
            structuredContent?: { job_id?: string };
          };
          const job = [...fake.state.jobs.values()].find((j) =>
            j.requestId === result.structuredContent?.job_id ||
            j.input.prompt === `${caller.name} run ${kind.slice(4)}`
          );
          assert.equal(
            job?.key,
            caller.key,
            `${kind} ran with ${caller.name}'s key`,
          );
        }
      }
    } finally {
      await server.close();
    }
  });
});

/** A 2026 tools/call whose `_meta` carries extra keys (a progress token). */
async function rpcWithMeta(
  url: string,
  params: { name: string; arguments: unknown; _meta: Record<string, unknown> },
  headers: Record<string, string>,
) {
  const request = modernRequest(
    "tools/call",
    { name: params.name, arguments: params.arguments },
    1,
  );
  const body = request.body as { params: { _meta: Record<string, unknown> } };
  Object.assign(body.params._meta, params._meta);
  const response = await fetch(`${url}/mcp`, {
    method: "POST",
    headers: { ...request.headers, ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    messages: messagesOf(text, response.headers.get("content-type")),
  };
}

/** Opens a 2025-era session on `url`; answers its headers for follow-up requests. */
async function openLegacySession(
  url: string,
  version: string,
  headers: Record<string, string> = {},
): Promise<Record<string, string>> {
  const base = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    ...headers,
  };
  const init = await fetch(`${url}/mcp`, {
    method: "POST",
    headers: base,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: {
        protocolVersion: version,
        capabilities: {},
        clientInfo: { name: "t", version: "1" },
      },
    }),
  });
  await init.body?.cancel();
  const session = init.headers.get("mcp-session-id");
  assert.ok(session, `initialize answered ${init.status}`);
  const sessionHeaders = {
    ...base,
    "mcp-session-id": session,
    "mcp-protocol-version": version,
  };
  const initialized = await fetch(`${url}/mcp`, {
    method: "POST",
    headers: sessionHeaders,
    body: JSON.stringify({
      jsonrpc: "2.0",
      method: "notifications/initialized",
    }),
  });
  await initialized.body?.cancel();
  return sessionHeaders;
}

interface Exchange {
  status: number;
  headers: Record<string, string | null>;
  /** The body with event ids (random per stream) replaced by `*`. */
  body: string;
  /** The event ids, in order. */
  eventIds: string[];
}

async function sessionCall(
  url: string,
  headers: Record<string, string>,
  params: Record<string, unknown>,
  id: number | string,
): Promise<Exchange> {
  const response = await fetch(`${url}/mcp`, {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params }),
  });
  const text = await response.text();
  const eventIds = [...text.matchAll(/^id: (.*)$/gm)].map((m) => m[1]!);
  const picked: Record<string, string | null> = {};
  for (const name of ["content-type", "cache-control", "x-accel-buffering"]) {
    picked[name] = response.headers.get(name);
  }
  picked["mcp-session-id"] = response.headers.get("mcp-session-id") === headers["mcp-session-id"]
    ? "same"
    : response.headers.get("mcp-session-id");
  return {
    status: response.status,
    headers: picked,
    body: text.replace(/^id: .*$/gm, "id: *"),
    eventIds,
  };
}

Deno.test("a quick 2025 session tools/call answers as the SDK's session transport does (event ids aside)", async () => {
  await withFakeFal(async (fake) => {
    const deps = depsFor(fake, TEST_FAL_KEY);
    const { fast: quick, sdk } = fastAndSdk(deps);
    try {
      for (const version of ["2025-11-25", "2025-06-18", "2025-03-26"]) {
        const a = await openLegacySession(quick.url, version);
        const b = await openLegacySession(sdk.url, version);
        const calls: Record<string, unknown>[] = [
          { name: "list_jobs", arguments: {} },
          { name: "list_jobs" },
          { name: "list_jobs", arguments: { limit: 0 } }, // input error
          { name: "list_jobs", arguments: { status: "nope" } }, // input error
          { name: "list_jobs", arguments: {}, _meta: { trace: "x" } },
          { name: "get_job", arguments: { job_id: "no-such-job" } }, // not quick-eligible
        ];
        for (const params of calls) {
          for (const id of [7, "call-7"]) {
            const label = `${version} ${JSON.stringify(params)} id ${JSON.stringify(id)}`;
            const ours = await sessionCall(quick.url, a, params, id);
            const theirs = await sessionCall(sdk.url, b, params, id);
            assert.deepEqual(
              ours,
              { ...theirs, eventIds: ours.eventIds },
              label,
            );
            assert.equal(ours.eventIds.length, theirs.eventIds.length, label);
          }
        }
      }
    } finally {
      await quick.close();
      await sdk.close();
      await deps.jobs.close();
    }
  });
});

Deno.test("a quick session call's events resume with Last-Event-ID like an SDK-served stream", async () => {
  await withFakeFal(async (fake) => {
    const deps = depsFor(fake, TEST_FAL_KEY);
    const handler = serveHandler(
      createStreamableHttpHandler({
        ...HANDLER_OPTIONS,
        factory: () => createServer(deps),
      }),
    );
    try {
      const headers = await openLegacySession(handler.url, "2025-11-25");
      const call = await sessionCall(handler.url, headers, {
        name: "list_jobs",
        arguments: {},
      }, 3);
      assert.equal(call.eventIds.length, 2, "a priming event, then the result");
      const resumed = await fetch(`${handler.url}/mcp`, {
        headers: {
          ...headers,
          accept: "text/event-stream",
          "last-event-id": call.eventIds[0]!,
        },
      });
      assert.equal(resumed.status, 200);
      const reader = resumed.body!.pipeThrough(new TextDecoderStream())
        .getReader();
      let text = "";
      while (!text.includes("\n\n", text.indexOf("data: {"))) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
      await reader.cancel();
      assert.ok(
        text.includes(`id: ${call.eventIds[1]}`),
        `replayed the result event: ${text}`,
      );
      assert.ok(text.includes('"id":3'), text);
    } finally {
      await handler.close();
      await deps.jobs.close();
    }
  });
});

/**
 * A server with read-only, closed-world tools that count their runs: `quick_read` answers at
 * once (with its caller and request id), `slow_read` waits on a timer, `progress_read` notifies.
 */
function countingServer(runs: Map<string, number>): McpServer {
  const server = new McpServer({ name: "counting", version: "1.0.0" });
  recordTools(server);
  const annotations = { readOnlyHint: true, openWorldHint: false };
  const count = (name: string) => runs.set(name, (runs.get(name) ?? 0) + 1);
  server.registerTool("quick_read", { annotations }, (ctx) => {
    count("quick_read");
    const caller = fromAuthInfo(ctx.http?.authInfo).id;
    return { content: [{ type: "text", text: `${caller} ${String(ctx.mcpReq.id)}` }] };
  });
  server.registerTool("slow_read", { annotations }, async () => {
    count("slow_read");
    await new Promise((resolve) => setTimeout(resolve, 5));
    return { content: [{ type: "text", text: "slow" }] };
  });
  server.registerTool("progress_read", { annotations }, async (ctx) => {
    count("progress_read");
    const progressToken = ctx.mcpReq._meta?.progressToken;
    if (progressToken !== undefined) {
      await ctx.mcpReq.notify({
        method: "notifications/progress",
        params: { progressToken, progress: 1, total: 1 },
      });
    }
    return { content: [{ type: "text", text: "done" }] };
  });
  server.registerTool("open_read", { annotations: { readOnlyHint: true } }, () => {
    count("open_read");
    return { content: [{ type: "text", text: "open" }] };
  });
  return server;
}

/** Serves a handler for the caller named by `x-caller` (a test stand-in for authentication). */
function serveAs(handler: StreamableHttpHandler): { url: string; close(): Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const caller = request.headers.get("x-caller");
    const principal: Principal = caller ? { id: caller, kind: "token", scopes: [] } : LOCAL;
    return handler.fetch(request, principal);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      await handler.close();
      await server.shutdown();
    },
  };
}

Deno.test("a session call that is not quick, or notifies, is handed to the SDK; other tools never take the quick path", async () => {
  const runs = new Map<string, number>();
  const handler = serveAs(createStreamableHttpHandler({
    ...HANDLER_OPTIONS,
    factory: () => countingServer(runs),
  }));
  try {
    const headers = await openLegacySession(handler.url, "2025-06-18");
    const text = async (params: Record<string, unknown>) => {
      const call = await sessionCall(handler.url, headers, params, 1);
      assert.equal(call.status, 200);
      return call.body;
    };
    assert.match(await text({ name: "quick_read" }), /"text":"local 1"/);
    assert.equal(runs.get("quick_read"), 1, "served once, on the quick path");
    assert.match(await text({ name: "slow_read" }), /"text":"slow"/);
    assert.equal(runs.get("slow_read"), 2, "started on the quick path, then run by the SDK");
    const progressed = await text({ name: "progress_read", _meta: { progressToken: "p1" } });
    assert.match(progressed, /notifications\/progress/);
    assert.match(progressed, /"text":"done"/);
    assert.equal(runs.get("progress_read"), 2, "a notification hands the call to the SDK");
    assert.match(await text({ name: "open_read" }), /"text":"open"/);
    assert.equal(runs.get("open_read"), 1, "an open-world tool is run by the SDK only");
    // A tool that is never quick stops being tried after a few hand-overs.
    for (let i = 0; i < 8; i++) assert.match(await text({ name: "slow_read" }), /"text":"slow"/);
    assert.equal(runs.get("slow_read"), 2 + 3 * 2 + 5, "tried 4 times in all, then the SDK alone");
  } finally {
    await handler.close();
  }
});

Deno.test("two callers' concurrent quick session calls with the same request id never cross", async () => {
  const runs = new Map<string, number>();
  const handler = serveAs(createStreamableHttpHandler({
    ...HANDLER_OPTIONS,
    factory: () => countingServer(runs),
  }));
  try {
    const alice = await openLegacySession(handler.url, "2025-11-25", { "x-caller": "alice" });
    const bob = await openLegacySession(handler.url, "2025-11-25", { "x-caller": "bob" });
    const calls = [];
    for (let i = 0; i < 20; i++) {
      const [who, headers] = i % 2 ? ["bob", bob] : ["alice", alice];
      const id = Math.floor(i / 2); // each id is used by both callers at once
      calls.push(
        sessionCall(handler.url, headers!, { name: "quick_read" }, id).then((call) => ({
          who,
          id,
          call,
        })),
      );
    }
    for (const { who, id, call } of await Promise.all(calls)) {
      assert.equal(call.status, 200);
      assert.match(call.body, new RegExp(`"text":"${who} ${id}"`), `${who} got its own answer`);
      assert.match(call.body, new RegExp(`"id":${id}}`));
    }
    assert.equal(runs.get("quick_read"), 20);
  } finally {
    await handler.close();
  }
});
