import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableV2,
} from "@modelcontextprotocol/client";
import { StdioClientTransport as StdioV2 } from "@modelcontextprotocol/client/stdio";
import assert from "node:assert/strict";
import { mainArgs } from "./helpers/process.ts";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { ModernClient, TASKS_CAPABILITIES } from "./helpers/modern_client.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import { SseReader } from "./helpers/sse_reader.ts";
import { waitFor } from "./helpers/wait_for.ts";

interface Note {
  method?: string;
  params?: Record<string, unknown> & { _meta?: Record<string, unknown> };
  id?: unknown;
  result?: unknown;
}

/** Submits a job through submit_job and answers its id. */
async function submit(client: ModernClient, durationMs: number): Promise<string> {
  const answer = await client.request("tools/call", {
    name: "submit_job",
    arguments: {
      endpoint_id: "fal-ai/flux/dev",
      input: { prompt: "a lighthouse", fake_duration_ms: durationMs },
      validate: false,
    },
  });
  const id = (answer.result?.structuredContent as { job_id?: string } | undefined)?.job_id;
  assert.ok(id, JSON.stringify(answer));
  return id;
}

Deno.test("subscriptions/listen: a 2026 client hears its job's resource updates and task notifications until it completes", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const abort = new AbortController();
    try {
      const client = new ModernClient(`${server.url}/mcp`, TASKS_CAPABILITIES);
      const jobId = await submit(client, 1500);
      const uri = `fal://jobs/${jobId}`;
      const response = await client.open("subscriptions/listen", {
        notifications: {
          resourceSubscriptions: [uri, "fal://jobs/someone-elses-job"],
          taskIds: [jobId],
          resourcesListChanged: true,
        },
      }, abort.signal);
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type") ?? "", /text\/event-stream/);
      const reader = new SseReader(response.body!);
      const notes: Note[] = [];
      const ack = JSON.parse((await reader.next())!.data) as Note;
      assert.equal(ack.method, "notifications/subscriptions/acknowledged");
      assert.deepEqual(ack.params?.notifications, {
        resourcesListChanged: true,
        resourceSubscriptions: [uri],
        taskIds: [jobId],
      });
      assert.ok(ack.params?._meta?.["io.modelcontextprotocol/subscriptionId"] !== undefined);
      for (let i = 0; i < 200; i++) {
        const event = await reader.next();
        if (!event) break;
        const note = JSON.parse(event.data) as Note;
        notes.push(note);
        if (note.method === "notifications/tasks" && note.params?.status === "completed") break;
      }
      await reader.cancel();
      const updated = notes.filter((n) => n.method === "notifications/resources/updated");
      assert.ok(updated.length >= 1, "no resource update arrived");
      assert.ok(updated.every((n) => n.params?.uri === uri));
      assert.ok(notes.some((n) => n.method === "notifications/resources/list_changed"));
      const tasks = notes.filter((n) => n.method === "notifications/tasks");
      const last = tasks.at(-1)?.params as { status: string; result?: { content: unknown[] } };
      assert.equal(last.status, "completed");
      assert.ok(last.result && last.result.content.length > 0, "the result rides the notification");
    } finally {
      abort.abort();
      await server.close();
    }
  });
});

Deno.test("subscriptions/listen: task notifications need the tasks extension (-32021); ids are bounded", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    try {
      const client = new ModernClient(`${server.url}/mcp`);
      const answer = await client.request("subscriptions/listen", {
        notifications: { taskIds: ["x"] },
      });
      assert.equal(answer.error?.code, -32021);
      // A subscription names at most 100 ids.
      const tasksClient = new ModernClient(`${server.url}/mcp`, TASKS_CAPABILITIES);
      const tooMany = await tasksClient.request("subscriptions/listen", {
        notifications: { taskIds: Array.from({ length: 101 }, (_, i) => `t${i}`) },
      });
      assert.equal(tooMany.error?.code, -32602);
      assert.match(tooMany.error?.message ?? "", /at most 100/);
      // Nothing to honour: acknowledged, then closed at once.
      const empty = await client.open("subscriptions/listen", {
        notifications: { resourceSubscriptions: ["fal://jobs/not-mine"] },
      }, AbortSignal.timeout(10_000));
      const text = await empty.text();
      assert.match(text, /notifications\/subscriptions\/acknowledged/);
      assert.match(text, /"resultType":"complete"/);
    } finally {
      await server.close();
    }
  });
});

Deno.test("resources/subscribe: a 2025 session hears fal://jobs/{id} updates and list changes", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const client = new ClientV2({ name: "legacy-sub", version: "1.0.0" }, {
      versionNegotiation: { mode: "legacy" },
    });
    try {
      await client.connect(new StreamableV2(new URL(`${server.url}/mcp`)));
      assert.equal(client.getServerCapabilities()?.resources?.subscribe, true);
      const updates: string[] = [];
      let listChanges = 0;
      client.setNotificationHandler("notifications/resources/updated", (n) => {
        updates.push(n.params.uri);
      });
      client.setNotificationHandler("notifications/resources/list_changed", () => {
        listChanges++;
      });
      const submitted = await client.callTool({
        name: "submit_job",
        arguments: {
          endpoint_id: "fal-ai/flux/dev",
          input: { prompt: "x", fake_duration_ms: 1500 },
          validate: false,
        },
      });
      const jobId = (submitted.structuredContent as { job_id: string }).job_id;
      const uri = `fal://jobs/${jobId}`;
      await client.subscribeResource({ uri });
      await assert.rejects(client.subscribeResource({ uri: "fal://jobs/not-mine" }), /Unknown job/);
      // Updates go to the standalone GET stream: wait until the job completes and one arrives.
      await waitFor(() => updates.length > 0, "a resource update");
      assert.ok(updates.every((u) => u === uri));
      await waitFor(() => listChanges > 0, "a list change");
    } finally {
      await client.close();
      await server.close();
    }
  });
});

for (const transport of ["http", "stdio"] as const) {
  Deno.test(`subscriptions/listen: the SDK client (2026-07-28, ${transport}) hears a job's updates`, async () => {
    await withFakeFal(async (fake) => {
      const server = transport === "http"
        ? await startTestHttpServer({ env: falEnv(fake) })
        : undefined;
      const client = new ClientV2({ name: "listen-sdk", version: "1.0.0" }, {
        versionNegotiation: { mode: { pin: "2026-07-28" } },
      });
      try {
        await client.connect(
          server ? new StreamableV2(new URL(`${server.url}/mcp`)) : new StdioV2({
            command: Deno.execPath(),
            args: mainArgs(),
            env: { ...falEnv(fake), NO_COLOR: "1", FAL_MCP_JOB_STORE: "memory" },
            stderr: "pipe",
          }),
        );
        const updates: string[] = [];
        client.setNotificationHandler("notifications/resources/updated", (n) => {
          updates.push(n.params.uri);
        });
        const submitted = await client.callTool({
          name: "submit_job",
          arguments: {
            endpoint_id: "fal-ai/flux/dev",
            input: { prompt: "x", fake_duration_ms: 1500 },
            validate: false,
          },
        });
        const uri = `fal://jobs/${(submitted.structuredContent as { job_id: string }).job_id}`;
        const subscription = await client.listen({ resourceSubscriptions: [uri] });
        try {
          await waitFor(() => updates.length > 0, "a resource update on the subscription");
          assert.ok(updates.every((u) => u === uri));
        } finally {
          await subscription.close();
        }
      } finally {
        await client.close();
        await server?.close();
      }
    });
  });
}
