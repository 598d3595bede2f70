import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableV2,
} from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import type { FakeFal } from "./fake_fal/server.ts";
import { startCluster, type TestCluster } from "./helpers/cluster.ts";
import {
  assertFalTools,
  assertImageGenerated,
  type CallWithProgress,
  withFakeFal,
} from "./helpers/scenario.ts";
import {
  Client as ClientV1,
  StreamableHTTPClientTransport as StreamableV1,
} from "./helpers/sdk_v1.ts";
import type { ToolAnswer } from "./helpers/tool_client.ts";

const info = { name: "fal-mcp-cluster-session-test", version: "1.0.0" };
const reconnection = {
  initialReconnectionDelay: 200,
  maxReconnectionDelay: 1000,
  reconnectionDelayGrowFactor: 1.5,
  maxRetries: 10,
};

/** One 2025-era client, v1 or v2 SDK, behind the same small surface. */
interface SessionClient {
  kind: string;
  sessionId(): string | undefined;
  listTools(): Promise<{ tools: { name: string }[] }>;
  listResourceTemplates(): Promise<
    { resourceTemplates: { uriTemplate: string }[] }
  >;
  readResource(uri: string): Promise<unknown>;
  call(
    name: string,
    args: Record<string, unknown>,
    onprogress?: (p: { progress: number; message?: string }) => void,
    onresumptiontoken?: (token: string) => void,
  ): Promise<ToolAnswer>;
  terminate(): Promise<void>;
  close(): Promise<void>;
}

async function connectV1(url: string): Promise<SessionClient> {
  const client = new ClientV1(info);
  const transport = new StreamableV1(new URL(`${url}/mcp`), {
    reconnectionOptions: reconnection,
  });
  await client.connect(transport);
  return {
    kind: "v1",
    sessionId: () => transport.sessionId,
    listTools: () => client.listTools(),
    listResourceTemplates: () => client.listResourceTemplates(),
    readResource: (uri) => client.readResource({ uri }),
    call: (name, args, onprogress, onresumptiontoken) =>
      client.callTool({ name, arguments: args }, undefined, {
        timeout: 60_000,
        ...(onprogress ? { onprogress } : {}),
        ...(onresumptiontoken ? { onresumptiontoken } : {}),
      }) as Promise<ToolAnswer>,
    terminate: () => transport.terminateSession(),
    close: () => client.close(),
  };
}

async function connectV2(url: string): Promise<SessionClient> {
  const client = new ClientV2(info);
  const transport = new StreamableV2(new URL(`${url}/mcp`), {
    reconnectionOptions: reconnection,
  });
  await client.connect(transport);
  assert.equal(client.getProtocolEra(), "legacy");
  return {
    kind: "v2",
    sessionId: () => transport.sessionId,
    listTools: () => client.listTools(),
    listResourceTemplates: () => client.listResourceTemplates(),
    readResource: (uri) => client.readResource({ uri }),
    call: (name, args, onprogress, onresumptiontoken) =>
      client.callTool({ name, arguments: args }, {
        timeout: 60_000,
        ...(onprogress ? { onprogress } : {}),
        ...(onresumptiontoken ? { onresumptiontoken } : {}),
      }) as Promise<ToolAnswer>,
    terminate: () => transport.terminateSession(),
    close: () => client.close(),
  };
}

const connectors = [["v1", connectV1], ["v2", connectV2]] as const;

async function withCluster(
  run: (fake: FakeFal, cluster: TestCluster) => Promise<void>,
  args: string[] = [],
): Promise<void> {
  await withFakeFal(async (fake) => {
    const cluster = await startCluster(fake, { args: () => args });
    try {
      await run(fake, cluster);
    } finally {
      await cluster.stop();
    }
  });
}

function resultFetches(fake: FakeFal, id: string): number {
  return fake.state.requests.filter((r) => r.method === "GET" && r.path.endsWith(`/requests/${id}`))
    .length;
}

async function submit(
  client: SessionClient,
  prompt: string,
  durationMs: number,
): Promise<string> {
  const answer = await client.call("submit_job", {
    endpoint_id: "fal-ai/flux/dev",
    input: { prompt, fake_duration_ms: durationMs },
    // fake_duration_ms is the fake's test hook, not an input of the model.
    validate: false,
  });
  assert.notEqual(answer.isError, true, JSON.stringify(answer.content));
  return String(answer.structuredContent?.job_id);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const MCP_HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
};

/** Opens a session with a raw initialize on one instance; answers its id. */
async function rawInitialize(
  url: string,
  version = "2025-11-25",
): Promise<string> {
  const response = await fetch(`${url}/mcp`, {
    method: "POST",
    headers: MCP_HEADERS,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: version, capabilities: {}, clientInfo: info },
    }),
  });
  assert.equal(response.status, 200);
  await response.body?.cancel();
  const id = response.headers.get("mcp-session-id");
  assert.ok(id);
  return id;
}

function rawPost(
  url: string,
  session: string,
  body: unknown,
): Promise<Response> {
  return fetch(`${url}/mcp`, {
    method: "POST",
    headers: {
      ...MCP_HEADERS,
      "mcp-session-id": session,
      "mcp-protocol-version": "2025-11-25",
    },
    body: JSON.stringify(body),
  });
}

/** Reads SSE frames of a response into `frames` until it ends. */
function collectFrames(response: Response, frames: string[]): Promise<void> {
  return (async () => {
    let buffer = "";
    for await (
      const chunk of response.body!.pipeThrough(new TextDecoderStream())
    ) {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        frames.push(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  })().catch(() => {});
}

for (const [kind, connect] of connectors) {
  Deno.test(`cluster: a ${kind} client's 2025 session is served by every instance behind round-robin nginx`, async () => {
    await withCluster(async (fake, cluster) => {
      const client = await connect(cluster.url);
      try {
        const session = client.sessionId();
        assert.ok(session, "a 2025 client gets a session");
        await assertFalTools(client);
        const { resourceTemplates } = await client.listResourceTemplates();
        assert.ok(
          resourceTemplates.some((t) => t.uriTemplate === "fal://jobs/{job_id}"),
        );
        const call: CallWithProgress = (name, args, onprogress) =>
          client.call(name, args, onprogress);
        await assertImageGenerated(call);
        // Submitted through one request, read through the next ones, each on another instance.
        const id = await submit(client, "a fox", 600);
        for (let i = 0; i < 3; i++) {
          const answer = await client.call("get_job", {
            job_id: id,
            wait_seconds: 30,
          });
          assert.equal(
            answer.structuredContent?.status,
            "COMPLETED",
            JSON.stringify(answer),
          );
        }
        const listed = await client.call("list_jobs", {});
        assert.ok(JSON.stringify(listed.structuredContent).includes(id));
        assert.match(
          JSON.stringify(await client.readResource(`fal://jobs/${id}`)),
          /COMPLETED/,
        );
        assert.equal(
          resultFetches(fake, id),
          1,
          "the result is fetched once in the cluster",
        );
        const servers = cluster.instances.filter((i) =>
          i.logs.some((r) =>
            (r.msg === "session started" ||
              r.msg === "session served by this instance") &&
            r.session_id === session
          )
        );
        assert.ok(
          servers.length >= 2,
          `the session was served by ${servers.length} instance(s)`,
        );
        await client.terminate();
        // Ended everywhere: no instance serves it any more.
        for (const instance of cluster.instances) {
          const response = await rawPost(instance.url, session, {
            jsonrpc: "2.0",
            id: 9,
            method: "tools/list",
          });
          assert.equal(
            response.status,
            404,
            `instance ${instance.instanceId} still serves it`,
          );
          await response.body?.cancel();
        }
      } finally {
        await client.close().catch(() => {});
      }
    });
  });

  Deno.test(`cluster: kill -9 of the instance holding a ${kind} client's call stream: the client resumes through nginx and gets every event once, and the result`, async () => {
    await withCluster(async (fake, cluster) => {
      const client = await connect(cluster.url);
      const redis = await cluster.redis.client();
      try {
        const session = client.sessionId()!;
        const progress: number[] = [];
        const tokens: string[] = [];
        const running = client.call(
          "run_model",
          {
            endpoint_id: "fal-ai/flux/dev",
            input: {
              prompt: "a fox that outlives its server",
              fake_duration_ms: 5000,
            },
            validate: false,
          },
          (p) => progress.push(p.progress),
          (token) => tokens.push(token),
        );
        // The call's record names the instance serving it and its stream.
        let key: string | undefined;
        for (let i = 0; i < 1000 && key === undefined; i++) {
          const keys = await redis.keys(`fal-mcp:session-call:${session}:*`);
          if (keys.length > 0) key = String(keys[0]);
          else await sleep(10);
        }
        assert.ok(key, "the call's job is recorded");
        const record = JSON.parse(String(await redis.get(key)));
        const streamId = key.slice(`fal-mcp:session-call:${session}:`.length);
        for (let i = 0; i < 1000 && progress.length === 0; i++) await sleep(10);
        assert.ok(progress.length > 0, "progress arrived before the kill");
        const victim = cluster.instances.find((i) => i.instanceId === record.instance);
        assert.ok(
          victim,
          `the call is served by a known instance (${record.instance})`,
        );
        await victim.kill();
        const beforeKill = tokens.length;
        const answer = await running;
        assert.notEqual(answer.isError, true, JSON.stringify(answer.content));
        assert.match(JSON.stringify(answer.content), /resource_link/);
        // Every event of the call's stream reached the client once, in the log's order.
        const entries = await redis.xRange(
          `fal-mcp:session-log:${session}`,
          "-",
          "+",
        ) as {
          id: string;
          message: Record<string, string>;
        }[];
        const logged = entries.filter((entry) => entry.message.s === streamId)
          .map((entry) => `${streamId}_${entry.id}`);
        assert.equal(
          new Set(tokens).size,
          tokens.length,
          `an event came twice: ${tokens}`,
        );
        assert.deepEqual(tokens, logged);
        assert.ok(
          tokens.length > beforeKill,
          "events logged after the kill reached the client",
        );
        assert.deepEqual(
          progress,
          [...progress].sort((a, b) => a - b),
          "progress must increase",
        );
        assert.equal(
          new Set(progress).size,
          progress.length,
          "no progress value twice",
        );
        const finisher = cluster.instances.find((i) =>
          i.logs.some((r) =>
            r.msg === "finishing a call taken over from a stopped instance" &&
            r.session_id === session
          )
        );
        assert.ok(
          finisher && finisher !== victim,
          "a surviving instance finished the call",
        );
        assert.equal(
          fake.state.requests.filter((r) =>
            r.method === "POST" && r.path.endsWith("/fal-ai/flux/dev")
          ).length,
          1,
          "the model ran once",
        );
        assert.equal(
          resultFetches(fake, record.jobId),
          1,
          "its result was fetched once",
        );
        // The session goes on through the survivors.
        await assertFalTools(client);
      } finally {
        await redis.close();
        await client.close().catch(() => {});
      }
    });
  });
}

Deno.test("cluster: a session's GET stream on one instance carries notifications sent by another; DELETE elsewhere ends it", async () => {
  await withCluster(async (_fake, cluster) => {
    const [first, second, third] = cluster.instances;
    const session = await rawInitialize(first!.url);
    const initialized = await rawPost(second!.url, session, {
      jsonrpc: "2.0",
      method: "notifications/initialized",
    });
    assert.equal(initialized.status, 202);
    await initialized.body?.cancel();
    const stream = await fetch(`${third!.url}/mcp`, {
      headers: {
        accept: "text/event-stream",
        "mcp-session-id": session,
        "mcp-protocol-version": "2025-11-25",
      },
    });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get("content-type"), "text/event-stream");
    const frames: string[] = [];
    const reading = collectFrames(stream, frames);
    for (let i = 0; i < 500 && frames.length === 0; i++) await sleep(10);
    assert.match(
      frames[0] ?? "",
      /^id: _GET_stream_\d+-\d+\nretry: \d+\ndata: $/m,
    );
    const call = await rawPost(first!.url, session, {
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: {
        name: "submit_job",
        arguments: {
          endpoint_id: "fal-ai/flux/dev",
          input: { prompt: "a notified fox" },
          validate: false,
        },
      },
    });
    assert.equal(call.status, 200);
    await call.text();
    for (
      let i = 0;
      i < 1000 &&
      !frames.some((f) => f.includes("notifications/resources/list_changed"));
      i++
    ) await sleep(10);
    assert.ok(
      frames.some((f) => f.includes("notifications/resources/list_changed")),
      `no list change reached the stream: ${JSON.stringify(frames)}`,
    );
    const ended = await fetch(`${second!.url}/mcp`, {
      method: "DELETE",
      headers: { "mcp-session-id": session },
    });
    assert.equal(ended.status, 200);
    await ended.body?.cancel();
    await reading; // the GET stream on the third instance ends with the session
    for (const instance of cluster.instances) {
      const response = await rawPost(instance.url, session, {
        jsonrpc: "2.0",
        id: 3,
        method: "ping",
      });
      assert.equal(response.status, 404);
      await response.body?.cancel();
    }
  });
});

Deno.test("cluster: the per-client session cap counts sessions on every instance", async () => {
  await withCluster(async (_fake, cluster) => {
    const [first, second, third] = cluster.instances;
    const one = await rawInitialize(first!.url);
    await rawInitialize(second!.url);
    const refused = await fetch(`${third!.url}/mcp`, {
      method: "POST",
      headers: MCP_HEADERS,
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-11-25",
          capabilities: {},
          clientInfo: info,
        },
      }),
    });
    assert.equal(refused.status, 503);
    assert.match(
      JSON.stringify(await refused.json()),
      /already holds 2 sessions/,
    );
    const ended = await fetch(`${third!.url}/mcp`, {
      method: "DELETE",
      headers: { "mcp-session-id": one },
    });
    assert.equal(ended.status, 200);
    await ended.body?.cancel();
    await rawInitialize(third!.url);
  }, ["--max-sessions-per-client", "2"]);
});

Deno.test("cluster: a 2025 resources/subscribe served by one instance reports the job's changes on a GET stream held by another", async () => {
  await withCluster(async (_fake, cluster) => {
    const [first, second, third] = cluster.instances;
    const session = await rawInitialize(first!.url);
    const initialized = await rawPost(first!.url, session, {
      jsonrpc: "2.0",
      method: "notifications/initialized",
    });
    await initialized.body?.cancel();
    // The job is submitted (and so followed) by the second instance, through its own session.
    const other = await rawInitialize(second!.url);
    const done = await rawPost(second!.url, other, {
      jsonrpc: "2.0",
      method: "notifications/initialized",
    });
    await done.body?.cancel();
    const submitted = await rawPost(second!.url, other, {
      jsonrpc: "2.0",
      id: 2,
      method: "tools/call",
      params: {
        name: "submit_job",
        arguments: {
          endpoint_id: "fal-ai/flux/dev",
          input: { prompt: "a subscribed fox", fake_duration_ms: 1500 },
          validate: false,
        },
      },
    });
    const text = await submitted.text();
    const jobId = /"job_id":"([^"]+)"/.exec(text.replaceAll('\\"', '"'))?.[1];
    assert.ok(jobId, text);
    const uri = `fal://jobs/${jobId}`;
    const subscribed = await rawPost(first!.url, session, {
      jsonrpc: "2.0",
      id: 3,
      method: "resources/subscribe",
      params: { uri },
    });
    assert.equal(subscribed.status, 200);
    await subscribed.text();
    const leave = new AbortController();
    const stream = await fetch(`${third!.url}/mcp`, {
      headers: {
        accept: "text/event-stream",
        "mcp-session-id": session,
        "mcp-protocol-version": "2025-11-25",
      },
      signal: leave.signal,
    });
    const frames: string[] = [];
    const reading = collectFrames(stream, frames);
    const updated = () =>
      frames.some((f) => f.includes("notifications/resources/updated") && f.includes(uri));
    for (let i = 0; i < 1000 && !updated(); i++) await sleep(10);
    assert.ok(
      updated(),
      `no resource update reached the stream: ${JSON.stringify(frames)}`,
    );
    leave.abort();
    await reading;
  });
});
