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
import { LOCAL } from "../src/principal.ts";
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
function messagesOf(text: string, contentType: string | null): Record<string, unknown>[] {
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

/** A result with its per-process identity left out, for comparing two servers. */
function comparable(message: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(message));
}

Deno.test("the fast engine answers tools/list and tools/call exactly as the SDK leg does", async () => {
  await withFakeFal(async (fake) => {
    const deps = depsFor(fake, TEST_FAL_KEY);
    const options = {
      logger: silentLogger,
      maxSessions: 10,
      sessionTtlMs: 60_000,
      keepAliveMs: 15_000,
    };
    const fast = serveHandler(
      createStreamableHttpHandler({ ...options, factory: () => createServer(deps) }),
    );
    const sdk = serveHandler(
      createStreamableHttpHandler({
        ...options,
        factory: () => createServer(deps),
        fastPath: false,
      }),
    );
    try {
      const calls: [string, Record<string, unknown>][] = [
        ["tools/list", {}],
        ["tools/call", { name: "list_jobs", arguments: {} }],
        ["tools/call", { name: "list_jobs", arguments: { limit: 0 } }], // input error
        ["tools/call", { name: "get_job", arguments: { job_id: "no-such-job" } }], // tool error
        ["tools/call", { name: "search_models", arguments: { query: "flux" } }],
        ["tools/call", { name: "no_such_tool", arguments: {} }], // handed to the SDK
      ];
      for (const [method, params] of calls) {
        for (const id of [7, "call-7"]) {
          const a = await rpc(fast.url, method, params, id);
          const b = await rpc(sdk.url, method, params, id);
          const label = `${method} ${JSON.stringify(params)} id ${JSON.stringify(id)}`;
          assert.equal(a.status, b.status, label);
          assert.deepEqual(a.messages.map(comparable), b.messages.map(comparable), label);
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
      (request.body.params as { _meta: Record<string, unknown> })._meta.progressToken = "tok";
      const response = await fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: request.headers,
        body: JSON.stringify(request.body),
      });
      assert.equal(response.headers.get("content-type"), "text/event-stream");
      const messages = messagesOf(await response.text(), "text/event-stream");
      const progress = messages.filter((m) => m.method === "notifications/progress");
      assert.ok(progress.length >= 2, `expected progress, got ${JSON.stringify(messages)}`);
      assert.ok(
        progress.every((m) => (m.params as { progressToken: unknown }).progressToken === "tok"),
      );
      const result = messages.at(-1) as { id: unknown; result: { isError?: boolean } };
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
    const callers: { name: string; key: string; headers: Record<string, string> }[] = [
      { name: "alice", key: KEY_ALICE, headers: { "x-fal-key": KEY_ALICE } },
      { name: "bob", key: KEY_BOB, headers: { authorization: `Key ${KEY_BOB}` } },
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
          const result = messages.at(-1)?.result as { structuredContent?: { job_id?: string } };
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
          assert.ok(!text.includes(id), `${caller.name} saw ${other.name}'s job ${id} (${kind})`);
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
          assert.ok(tokens.length > 0, `no progress for ${caller.name} ${kind}`);
          assert.ok(tokens.every((t) => t.startsWith(`${caller.name}-`)), `${kind}: ${tokens}`);
          const result = answer.messages.at(-1)?.result as {
            structuredContent?: { job_id?: string };
          };
          const job = [...fake.state.jobs.values()].find((j) =>
            j.requestId === result.structuredContent?.job_id ||
            j.input.prompt === `${caller.name} run ${kind.slice(4)}`
          );
          assert.equal(job?.key, caller.key, `${kind} ran with ${caller.name}'s key`);
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
