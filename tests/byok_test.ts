import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { modernRequest, openSession, post, sessionHeaders } from "./helpers/raw_mcp.ts";
import { withFakeFal } from "./helpers/scenario.ts";
import type { ToolAnswer } from "./helpers/tool_client.ts";

const KEY_ALICE = "alice-key-id:alice-secret-0001";
const KEY_BOB = "bob-key-id:bob-secret-0002";

async function clientWith(url: string, headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "byok-test", version: "1.0.0" }, {
    versionNegotiation: { mode: { pin: "2026-07-28" } },
  });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }),
  );
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>) {
  return await client.callTool({ name, arguments: args }, { timeout: 30_000 }) as ToolAnswer;
}

Deno.test("BYOK: two clients with their own fal keys never see each other's jobs or keys", async () => {
  await withFakeFal(async (fake) => {
    // The server's own key must never be used for HTTP callers in BYOK mode.
    const server = await startTestHttpServer({
      env: { FAL_BASE_URL: fake.url, FAL_KEY: "server-key-never-used-01" },
      args: ["--byok"],
    });
    const alice = await clientWith(server.url, { "x-fal-key": KEY_ALICE });
    const bob = await clientWith(server.url, { authorization: `Key ${KEY_BOB}` });
    try {
      const a = await call(alice, "generate_image", { prompt: "alice's fox" });
      const b = await call(bob, "generate_image", { prompt: "bob's owl" });
      assert.notEqual(a.isError, true, JSON.stringify(a.content));
      assert.notEqual(b.isError, true, JSON.stringify(b.content));
      const jobs = [...fake.state.jobs.values()];
      assert.deepEqual(jobs.map((j) => j.key).sort(), [KEY_ALICE, KEY_BOB].sort());
      assert.ok(jobs.every((j) => j.key !== "server-key-never-used-01"));

      const aliceJob = a.structuredContent?.job_id as string;
      const bobJob = b.structuredContent?.job_id as string;
      const aliceList = await call(alice, "list_jobs", {});
      assert.deepEqual(
        (aliceList.structuredContent?.jobs as { job_id: string }[]).map((j) => j.job_id),
        [aliceJob],
      );
      const stolen = await call(bob, "get_job", { job_id: aliceJob });
      assert.equal(stolen.isError, true);
      const cancel = await call(bob, "cancel_job", { job_id: aliceJob });
      assert.equal(cancel.isError, true);
      const mine = await call(bob, "get_job", { job_id: bobJob });
      assert.equal(mine.structuredContent?.status, "COMPLETED");
      for (const answer of [a, b, aliceList, stolen, cancel, mine]) {
        const text = JSON.stringify(answer);
        assert.ok(
          !text.includes(KEY_ALICE) && !text.includes(KEY_BOB),
          "a key leaked into a result",
        );
      }
    } finally {
      await alice.close();
      await bob.close();
      await server.close();
    }
  });
});

Deno.test("BYOK: a session opened with one fal key is not usable with another", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: { FAL_BASE_URL: fake.url }, args: ["--byok"] });
    try {
      const mcp = `${server.url}/mcp`;
      const init = await post(mcp, {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "a", version: "1" },
        },
      }, {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "x-fal-key": KEY_ALICE,
      });
      const id = init.headers.get("mcp-session-id")!;
      await init.body?.cancel();
      const other = await post(mcp, { jsonrpc: "2.0", id: 2, method: "tools/list" }, {
        ...sessionHeaders(id),
        "x-fal-key": KEY_BOB,
      });
      assert.equal(other.status, 404);
      await other.body?.cancel();
      const same = await post(mcp, { jsonrpc: "2.0", id: 3, method: "tools/list" }, {
        ...sessionHeaders(id),
        "x-fal-key": KEY_ALICE,
      });
      assert.equal(same.status, 200);
      await same.body?.cancel();
      void openSession;
    } finally {
      await server.close();
    }
  });
});

Deno.test("BYOK: a client without a key can browse but gets a clear error for paid tools", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({
      env: { FAL_BASE_URL: fake.url, FAL_KEY: "server-key-never-used-02" },
      args: ["--byok"],
    });
    const anonymous = await clientWith(server.url, {});
    try {
      const search = await call(anonymous, "search_models", { query: "flux" });
      assert.notEqual(search.isError, true);
      const run = await call(anonymous, "generate_image", { prompt: "x" });
      assert.equal(run.isError, true);
      assert.match(JSON.stringify(run.content), /FAL_KEY is not set|fal key/i);
      assert.equal(fake.state.jobs.size, 0);
    } finally {
      await anonymous.close();
      await server.close();
    }
  });
});

Deno.test("BYOK: `Authorization: Bearer <fal key>` works when no tokens or OAuth are set, and the key's jobs are its own", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({
      env: { FAL_BASE_URL: fake.url, FAL_KEY: "server-key-never-used-03" },
      args: ["--byok"],
    });
    const alice = await clientWith(server.url, { authorization: `Bearer ${KEY_ALICE}` });
    const aliceAgain = await clientWith(server.url, { "x-fal-key": KEY_ALICE });
    const bob = await clientWith(server.url, { authorization: `Bearer ${KEY_BOB}` });
    try {
      const answer = await call(alice, "generate_image", { prompt: "a bearer fox" });
      assert.notEqual(answer.isError, true, JSON.stringify(answer.content));
      const job = answer.structuredContent?.job_id as string;
      assert.equal(fake.state.jobs.get(job)?.key, KEY_ALICE);
      // The key is the principal, however it is sent.
      const listed = await call(aliceAgain, "list_jobs", {});
      assert.deepEqual(
        (listed.structuredContent?.jobs as { job_id: string }[]).map((j) => j.job_id),
        [job],
      );
      assert.equal((await call(bob, "get_job", { job_id: job })).isError, true);
      assert.deepEqual((await call(bob, "list_jobs", {})).structuredContent?.jobs, []);
    } finally {
      await Promise.allSettled([alice.close(), aliceAgain.close(), bob.close()]);
      await server.close();
    }
  });
});

Deno.test("BYOK: each fal key gets its own rate-limit bucket", async () => {
  const server = await startTestHttpServer({ args: ["--byok", "--rate-limit", "3"] });
  try {
    const { body, headers } = modernRequest("tools/list");
    const as = (key: string) => ({ ...headers, authorization: `Bearer ${key}` });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await post(`${server.url}/mcp`, body, as(KEY_ALICE));
      statuses.push(res.status);
      await res.body?.cancel();
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    // Another key, however it is sent, has a bucket of its own.
    for (const bob of [as(KEY_BOB), { ...headers, "x-fal-key": KEY_BOB }]) {
      const res = await post(`${server.url}/mcp`, body, bob);
      assert.equal(res.status, 200, "another key is not limited by the first one's bucket");
      await res.body?.cancel();
    }
  } finally {
    await server.close();
  }
});

Deno.test("BYOK with bearer tokens: jobs belong to the token holder; only the fal key that submitted a job can cancel it", async () => {
  const tokenAlice = "alice-token-0123456789abcdef";
  const tokenBob = "bob-token-0123456789abcdef00";
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({
      env: { FAL_BASE_URL: fake.url, FAL_MCP_AUTH_TOKENS: `${tokenAlice},${tokenBob}` },
      args: ["--byok"],
    });
    const as = (token: string, key: string) => ({
      authorization: `Bearer ${token}`,
      "x-fal-key": key,
    });
    const alice = await clientWith(server.url, as(tokenAlice, KEY_ALICE));
    const aliceOtherKey = await clientWith(server.url, as(tokenAlice, KEY_BOB));
    const bobSameKey = await clientWith(server.url, as(tokenBob, KEY_ALICE));
    try {
      const submitted = await call(alice, "submit_job", {
        endpoint_id: "fal-ai/flux/dev",
        input: { prompt: "slow", fake_duration_ms: 60_000 },
        validate: false,
      });
      const job = submitted.structuredContent?.job_id as string;
      assert.equal(fake.state.jobs.get(job)?.key, KEY_ALICE);

      // Another token holder with the very same fal key: not theirs.
      assert.deepEqual((await call(bobSameKey, "list_jobs", {})).structuredContent?.jobs, []);
      assert.equal((await call(bobSameKey, "cancel_job", { job_id: job })).isError, true);

      // The same holder with another key still sees it, but cannot cancel it at fal.
      const listed = await call(aliceOtherKey, "list_jobs", {});
      assert.deepEqual(
        (listed.structuredContent?.jobs as { job_id: string }[]).map((j) => j.job_id),
        [job],
      );
      const refused = await call(aliceOtherKey, "cancel_job", { job_id: job });
      assert.equal(refused.isError, true);
      assert.match(JSON.stringify(refused.content), /submitted with another fal key/);
      assert.equal(fake.state.jobs.get(job)?.cancelled, false);

      const cancelled = await call(alice, "cancel_job", { job_id: job });
      assert.notEqual(cancelled.isError, true, JSON.stringify(cancelled.content));
      assert.equal(fake.state.jobs.get(job)?.cancelled, true);
    } finally {
      await Promise.allSettled([alice.close(), aliceOtherKey.close(), bobSameKey.close()]);
      await server.close();
    }
  });
});
