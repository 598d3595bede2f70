import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import type { FakeFal } from "./fake_fal/server.ts";
import { startCluster, type TestCluster } from "./helpers/cluster.ts";
import {
  assertFalTools,
  assertImageGenerated,
  type CallWithProgress,
  withFakeFal,
} from "./helpers/scenario.ts";
import type { ToolAnswer } from "./helpers/tool_client.ts";
import { waitFor } from "./helpers/wait_for.ts";
import {
  makeWebhookSigningKey,
  webhookHeaders,
  type WebhookSigningKey,
} from "./fake_fal/webhook_signing.ts";

const info = { name: "fal-mcp-cluster-test", version: "1.0.0" };

async function connect(url: string): Promise<Client> {
  const client = new Client(info, {
    versionNegotiation: { mode: { pin: "2026-07-28" } },
  });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`)),
  );
  return client;
}

function call(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<ToolAnswer> {
  return client.callTool({ name, arguments: args }, {
    timeout: 60_000,
  }) as Promise<ToolAnswer>;
}

function v2Call(client: Client): CallWithProgress {
  return (name, args, onprogress) =>
    client.callTool({ name, arguments: args }, { onprogress, timeout: 30_000 });
}

/** How many times the fake served the result of a request. */
function resultFetches(fake: FakeFal, id: string): number {
  return fake.state.requests.filter((r) => r.method === "GET" && r.path.endsWith(`/requests/${id}`))
    .length;
}

async function submit(
  client: Client,
  prompt: string,
  durationMs: number,
): Promise<string> {
  const answer = await call(client, "submit_job", {
    endpoint_id: "fal-ai/flux/dev",
    input: { prompt, fake_duration_ms: durationMs },
    // fake_duration_ms is the fake's test hook, not an input of the model.
    validate: false,
  });
  assert.notEqual(answer.isError, true, JSON.stringify(answer.content));
  const id = answer.structuredContent?.job_id;
  assert.equal(typeof id, "string", JSON.stringify(answer));
  return id as string;
}

async function withCluster(
  run: (fake: FakeFal, cluster: TestCluster) => Promise<void>,
  options: { webhooks?: WebhookSigningKey } = {},
): Promise<void> {
  await withFakeFal(async (fake) => {
    const cluster = await startCluster(fake, {
      args: (balancer) =>
        options.webhooks
          ? [
            "--public-url",
            balancer,
            "--fal-webhook-jwks-url",
            `${fake.url}/.well-known/jwks.json`,
          ]
          : [],
    });
    try {
      await run(fake, cluster);
    } finally {
      await cluster.stop();
    }
  }, options.webhooks ? { webhookSigning: options.webhooks } : {});
}

Deno.test("cluster: through round-robin nginx three instances serve 2026-07-28 clients as one server", async () => {
  await withCluster(async (fake, cluster) => {
    const client = await connect(cluster.url);
    try {
      await assertFalTools(client);
      const { resourceTemplates } = await client.listResourceTemplates();
      assert.ok(
        resourceTemplates.some((t) => t.uriTemplate === "fal://jobs/{job_id}"),
      );
      await assertImageGenerated(v2Call(client));
      // Submitted through one request, read through the next ones: each lands on another instance.
      const id = await submit(client, "a fox", 600);
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        const answer = await call(client, "get_job", {
          job_id: id,
          wait_seconds: 30,
        });
        assert.notEqual(answer.isError, true, JSON.stringify(answer.content));
        seen.push(String(answer.structuredContent?.status));
      }
      assert.deepEqual(seen, ["COMPLETED", "COMPLETED", "COMPLETED"]);
      const listed = await call(client, "list_jobs", {});
      assert.ok(JSON.stringify(listed.structuredContent).includes(id));
      const read = await client.readResource({ uri: `fal://jobs/${id}` });
      assert.match(JSON.stringify(read.contents), /COMPLETED/);
      assert.equal(
        resultFetches(fake, id),
        1,
        "the result is fetched once in the cluster",
      );
      // Every instance served MCP requests (no stickiness).
      for (const instance of cluster.instances) {
        assert.ok(
          instance.logs.some((r) => r.msg === "tool call"),
          `instance ${instance.instanceId} served nothing`,
        );
      }
    } finally {
      await client.close();
    }
  });
});

Deno.test("cluster: kill -9 of a job's lease holder: another instance finishes it, its result is fetched once and reaches a waiter on a third", async () => {
  await withCluster(async (fake, cluster) => {
    const [first] = cluster.instances;
    const submitter = await connect(first!.url);
    const redis = await cluster.redis.client();
    try {
      const id = await submit(submitter, "a slow fox", 6000);
      let holder: string | undefined;
      for (let i = 0; i < 500 && holder === undefined; i++) {
        const value = await redis.get(`fal-mcp:lease:${id}`);
        if (value) holder = String(value);
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const victim = cluster.instances.find((i) => i.instanceId === holder);
      assert.ok(victim, `the lease is held by a known instance (${holder})`);
      const others = cluster.instances.filter((i) => i !== victim);
      const waiterInstance = others[1]!;
      const waiterClient = await connect(waiterInstance.url);
      try {
        const waiting = call(waiterClient, "get_job", {
          job_id: id,
          wait_seconds: 60,
        });
        // Let the waiter subscribe, then kill the follower mid-job.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await victim.kill();
        const answer = await waiting;
        assert.notEqual(answer.isError, true, JSON.stringify(answer.content));
        assert.equal(
          answer.structuredContent?.status,
          "COMPLETED",
          JSON.stringify(answer),
        );
        assert.equal(resultFetches(fake, id), 1);
        const newHolder = others.find((i) =>
          i.logs.some((r) => r.msg === "following a job under its lease" && r.job_id === id)
        );
        assert.ok(newHolder, "a surviving instance took the job over");
      } finally {
        await waiterClient.close();
      }
    } finally {
      await redis.close();
      await submitter.close().catch(() => {});
    }
  });
});

Deno.test("cluster: Redis restarted mid-run: /ready is 503 while it is away, no job is lost, the cluster recovers", async () => {
  await withCluster(async (fake, cluster) => {
    const client = await connect(cluster.url);
    try {
      const id = await submit(client, "a patient fox", 3000);
      await cluster.redis.kill(true);
      const instance = cluster.instances[0]!;
      let status = 0;
      for (let i = 0; i < 500 && status !== 503; i++) {
        const response = await fetch(`${instance.url}/ready`);
        status = response.status;
        const body = await response.json();
        if (status === 503) assert.equal(body.redis, "unreachable");
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(status, 503, "/ready says not ready while Redis is away");
      const failed = await call(client, "get_job", { job_id: id });
      assert.equal(failed.isError, true);
      assert.match(JSON.stringify(failed.content), /unreachable/);
      await cluster.redis.restart();
      for (const each of cluster.instances) {
        for (let i = 0; i < 500; i++) {
          const response = await fetch(`${each.url}/ready`);
          await response.body?.cancel();
          if (response.status === 200) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      const answer = await call(client, "get_job", {
        job_id: id,
        wait_seconds: 60,
      });
      assert.equal(
        answer.structuredContent?.status,
        "COMPLETED",
        JSON.stringify(answer),
      );
      assert.equal(resultFetches(fake, id), 1);
    } finally {
      await client.close();
    }
  });
});

Deno.test("cluster: fal's webhook delivered to an instance that did not submit completes the job; replayed or forged ones change nothing", async () => {
  const key = await makeWebhookSigningKey();
  await withCluster(async (fake, cluster) => {
    const [submitterInstance] = cluster.instances;
    const submitter = await connect(submitterInstance!.url);
    const id = await submit(submitter, "a fox by webhook", 300);
    // The submitter dies at once: its lease holds the job for seconds, so only the webhook
    // (delivered through the balancer to a surviving instance) can complete it meanwhile.
    await submitterInstance!.kill();
    await submitter.close().catch(() => {});
    const client = await connect(cluster.url);
    try {
      const answer = await call(client, "get_job", {
        job_id: id,
        wait_seconds: 60,
      });
      assert.equal(
        answer.structuredContent?.status,
        "COMPLETED",
        JSON.stringify(answer),
      );
      assert.equal(
        resultFetches(fake, id),
        0,
        "the result came with the webhook, not a fetch",
      );
      await waitFor(() => fake.state.webhooks.some((w) => w.requestId === id && w.status === 200));
      const delivery = fake.state.webhooks.find((w) => w.requestId === id)!;
      assert.ok(delivery.url.startsWith(cluster.url), delivery.url);
      const receivers = cluster.instances.filter((i) =>
        i.logs.some((r) => r.msg === "fal webhook received" && r.job_id === id && r.changed)
      );
      assert.equal(receivers.length, 1);
      assert.notEqual(receivers[0], submitterInstance);
      const before = JSON.stringify(
        (await call(client, "get_job", { job_id: id })).structuredContent,
      );
      // A replay of the same signed delivery: accepted, changes nothing.
      const text = JSON.stringify(delivery.body);
      const replay = await fetch(`${cluster.url}/fal/webhook`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...await webhookHeaders(key, id, text),
        },
        body: text,
      });
      assert.equal(replay.status, 200);
      assert.equal((await replay.json()).changed, false);
      // A forged one (another key, claiming failure) is refused.
      const forger = await makeWebhookSigningKey();
      const forged = JSON.stringify({
        request_id: id,
        status: "ERROR",
        error: "forged",
      });
      const refused = await fetch(`${cluster.url}/fal/webhook`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...await webhookHeaders(forger, id, forged),
        },
        body: forged,
      });
      assert.equal(refused.status, 401);
      await refused.body?.cancel();
      const after = JSON.stringify(
        (await call(client, "get_job", { job_id: id })).structuredContent,
      );
      assert.equal(after, before);
    } finally {
      await client.close();
    }
  }, { webhooks: key });
});

Deno.test("cluster: subscriptions/listen on one instance hears a job another instance submitted and follows", async () => {
  await withCluster(async (_fake, cluster) => {
    const [first, second] = cluster.instances;
    const listener = await connect(first!.url);
    const submitter = await connect(second!.url);
    try {
      const updates: string[] = [];
      listener.setNotificationHandler(
        "notifications/resources/updated",
        (n) => {
          updates.push(n.params.uri);
        },
      );
      const id = await submit(submitter, "a fox heard elsewhere", 1500);
      const uri = `fal://jobs/${id}`;
      const subscription = await listener.listen({
        resourceSubscriptions: [uri],
      });
      try {
        await waitFor(
          () => updates.length > 0,
          "a resource update from another instance",
        );
        assert.ok(updates.every((u) => u === uri));
      } finally {
        await subscription.close();
      }
      // The job was followed by the instance that submitted it, not by the listener's.
      assert.ok(
        second!.logs.some((r) => r.msg === "following a job under its lease" && r.job_id === id),
      );
      assert.ok(
        !first!.logs.some((r) => r.msg === "following a job under its lease" && r.job_id === id),
      );
    } finally {
      await listener.close();
      await submitter.close();
    }
  });
});
