/**
 * Cost confirmation and daily budgets across instances (`--redis-url`): two real fal-mcp HTTP
 * servers on one real redis-server and the fake fal, driven over raw 2026-07-28 HTTP.
 */
import assert from "node:assert/strict";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http_server.ts";
import { ModernClient } from "./helpers/modern_client.ts";
import { startRedis, type TestRedis } from "./helpers/redis_server.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import type { FakeFal } from "./fake_fal/server.ts";

const VIDEO = "fal-ai/kling-video/v2/master/text-to-video"; // about $1.68 a call at the fake
const SECRET = "a-state-secret-shared-by-the-instances-0123456789";

/** Two instances sharing one Redis and one state secret. */
async function withTwoInstances(
  args: string[],
  fn: (
    a: TestHttpServer,
    b: TestHttpServer,
    fake: FakeFal,
    redis: TestRedis,
  ) => Promise<void>,
): Promise<void> {
  await withFakeFal(async (fake) => {
    const redis = await startRedis();
    const start = () =>
      startTestHttpServer({
        env: { ...falEnv(fake), FAL_MCP_STATE_SECRET: SECRET },
        args: ["--sync-wait", "0", "--redis-url", redis.url, ...args],
      });
    const servers: TestHttpServer[] = [];
    try {
      servers.push(await start());
      servers.push(await start());
      await fn(servers[0]!, servers[1]!, fake, redis);
    } finally {
      for (const server of servers) await server.close();
      await redis.stop();
    }
  });
}

const videoCall = (prompt: string, token?: string) => ({
  name: "run_model",
  arguments: {
    endpoint_id: VIDEO,
    input: { prompt },
    ...(token === undefined ? {} : { confirm_token: token }),
  },
});

Deno.test("cluster costs: a confirm token issued by one instance is redeemed once, on another; a second use on either is refused", async () => {
  await withTwoInstances(["--confirm-above-usd", "1"], async (a, b, fake) => {
    const onA = new ModernClient(`${a.url}/mcp`);
    const onB = new ModernClient(`${b.url}/mcp`);
    const first = await onA.request("tools/call", videoCall("waves at dusk"));
    const token = (first.result?.structuredContent as { confirm_token?: string })
      ?.confirm_token;
    assert.equal(typeof token, "string", JSON.stringify(first.result));
    assert.equal(fake.state.jobs.size, 0);

    const ran = await onB.request(
      "tools/call",
      videoCall("waves at dusk", token),
    );
    assert.notEqual(ran.result?.isError, true, JSON.stringify(ran.result));
    assert.equal(
      fake.state.jobs.size,
      1,
      "the token issued by A ran the call on B",
    );

    for (const client of [onB, onA]) {
      const reused = await client.request(
        "tools/call",
        videoCall("waves at dusk", token),
      );
      assert.equal(reused.result?.isError, true);
      assert.match(JSON.stringify(reused.result), /already used/);
    }
    assert.equal(fake.state.jobs.size, 1);
  });
});

Deno.test("cluster costs: spend on one instance counts against the daily budget on the other, and two runs at once cannot both take its last dollars", async () => {
  await withTwoInstances(
    ["--budget-usd-per-day", "2"],
    async (a, b, fake, redis) => {
      const onA = new ModernClient(`${a.url}/mcp`);
      const onB = new ModernClient(`${b.url}/mcp`);
      const first = await onA.request("tools/call", videoCall("first"));
      assert.notEqual(
        first.result?.isError,
        true,
        JSON.stringify(first.result),
      );

      const second = await onB.request("tools/call", videoCall("second"));
      assert.equal(second.result?.isError, true, JSON.stringify(second.result));
      assert.match(
        JSON.stringify(second.result),
        /today's spend so far is \$1\.68 of the \$2\.00 daily budget/,
      );
      assert.equal(fake.state.jobs.size, 1);

      // The day's spend lives in Redis under an expiry at the day's end.
      const client = await redis.client();
      try {
        const keys = await client.keys("fal-mcp:spend:*");
        assert.equal(keys.length, 1, JSON.stringify(keys));
        assert.equal(Number(await client.get(keys[0]!)), 1.68);
        const ttl = Number(await client.ttl(keys[0]!));
        assert.ok(ttl > 0 && ttl <= 25 * 3600, `spend key expires in ${ttl} s`);
        // A new day for this caller: the key is gone.
        await client.del(keys[0]!);
      } finally {
        await client.close();
      }

      // Two runs at once on the two instances, with room for one: exactly one goes ahead.
      const racing = await Promise.all([
        onA.request("tools/call", videoCall("race on A")),
        onB.request("tools/call", videoCall("race on B")),
      ]);
      const ran = racing.filter((answer) => answer.result?.isError !== true);
      assert.equal(ran.length, 1, JSON.stringify(racing.map((r) => r.result)));
      assert.match(
        JSON.stringify(racing.find((r) => r.result?.isError)?.result),
        /daily budget/,
      );
      assert.equal(fake.state.jobs.size, 2);
    },
  );
});

Deno.test("cluster costs: a 2026 confirmation asked on one instance is accepted on another once; its replay on the first runs nothing", async () => {
  await withTwoInstances(["--confirm-above-usd", "1"], async (a, b, fake) => {
    const capabilities = { elicitation: {} };
    const onA = new ModernClient(`${a.url}/mcp`, capabilities);
    const onB = new ModernClient(`${b.url}/mcp`, capabilities);
    const asked = await onA.request("tools/call", videoCall("waves at dusk"));
    assert.equal(
      asked.result?.resultType,
      "input_required",
      JSON.stringify(asked.result),
    );
    const accept = {
      ...videoCall("waves at dusk"),
      inputResponses: {
        confirm_cost: { action: "accept", content: { confirm: true } },
      },
      requestState: asked.result?.requestState,
    };
    const ran = await onB.request("tools/call", accept);
    assert.equal(ran.error, undefined, JSON.stringify(ran.error));
    assert.notEqual(ran.result?.isError, true, JSON.stringify(ran.result));
    assert.equal(fake.state.jobs.size, 1);

    const replayed = await onA.request("tools/call", accept);
    assert.match(JSON.stringify(replayed), /already used/);
    assert.equal(fake.state.jobs.size, 1);
  });
});
