import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableV2,
} from "@modelcontextprotocol/client";
// @ts-types="@modelcontextprotocol/sdk/types"
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import { Client, StreamableHTTPClientTransport } from "./helpers/sdk_v1.ts";
import { allText, type ToolAnswer } from "./helpers/tool_client.ts";

const TOKEN_ALICE = "alice-token-0123456789abcdef";
const TOKEN_BOB = "bob-token-0123456789abcdef00";
/** An id no job ever had, in fal's request id format. */
const NEVER = "00000000-0000-4000-8000-000000000000";

/** A v1 client (it speaks MCP tasks) on a 2025-11-25 session, as the holder of `token`. */
async function v1Client(url: string, token: string): Promise<Client> {
  const client = new Client({ name: "owner-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

/** A v2 client on the stateless 2026-07-28 revision, as the holder of `token`. */
async function v2Client(url: string, token: string): Promise<ClientV2> {
  const client = new ClientV2({ name: "owner-test", version: "1.0.0" }, {
    versionNegotiation: { mode: { pin: "2026-07-28" } },
  });
  await client.connect(
    new StreamableV2(new URL(`${url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

type AnyClient = Client | ClientV2;

async function call(client: AnyClient, name: string, args: Record<string, unknown>) {
  return await client.callTool({ name, arguments: args }, undefined, {
    timeout: 30_000,
  }) as ToolAnswer;
}

/** What a failed protocol call told the caller: its JSON-RPC code and message, id masked. */
async function refusal(work: Promise<unknown>, id: string): Promise<string> {
  try {
    await work;
  } catch (error) {
    const { code, message } = error as { code?: number; message?: string };
    return `${code} ${String(message).replaceAll(id, "<id>")}`;
  }
  assert.fail(`the call about ${id} succeeded`);
}

/** What a failed tool call told the caller, id masked. */
function toolRefusal(answer: ToolAnswer, id: string): string {
  assert.equal(answer.isError, true, `expected an error, got ${allText(answer)}`);
  return JSON.stringify(answer.content).replaceAll(id, "<id>");
}

/** Every way a caller can read or act on a job by id, as what each answered. */
async function probe(v1: Client, v2: ClientV2, id: string): Promise<Record<string, string>> {
  return {
    get_job: toolRefusal(await call(v1, "get_job", { job_id: id }), id),
    get_job_modern: toolRefusal(await call(v2, "get_job", { job_id: id }), id),
    cancel_job: toolRefusal(await call(v1, "cancel_job", { job_id: id }), id),
    resources_read: await refusal(v1.readResource({ uri: `fal://jobs/${id}` }), id),
    resources_read_modern: await refusal(v2.readResource({ uri: `fal://jobs/${id}` }), id),
    tasks_get: await refusal(v1.experimental.tasks.getTask(id), id),
    tasks_result: await refusal(
      v1.experimental.tasks.getTaskResult(id, CallToolResultSchema),
      id,
    ),
    tasks_cancel: await refusal(v1.experimental.tasks.cancelTask(id), id),
  };
}

Deno.test("two bearer tokens never see each other's jobs: every listing, read and cancel answers as for an id that never existed", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({
      env: { ...falEnv(fake), FAL_MCP_AUTH_TOKENS: `${TOKEN_ALICE},${TOKEN_BOB}` },
    });
    const alice = await v1Client(server.url, TOKEN_ALICE);
    const bob = await v1Client(server.url, TOKEN_BOB);
    const bobModern = await v2Client(server.url, TOKEN_BOB);
    try {
      const submitted = await call(alice, "submit_job", {
        endpoint_id: "fal-ai/flux/dev",
        input: { prompt: "alice's long job", fake_duration_ms: 60_000 },
        validate: false,
      });
      assert.notEqual(submitted.isError, true, allText(submitted));
      const job = submitted.structuredContent?.job_id as string;
      assert.ok(fake.state.jobs.has(job));

      // Listings: Bob sees nothing of Alice's.
      const listed = await call(bob, "list_jobs", {});
      assert.deepEqual(listed.structuredContent?.jobs, []);
      const listedModern = await call(bobModern, "list_jobs", {});
      assert.deepEqual(listedModern.structuredContent?.jobs, []);
      const resources = (await bob.listResources()).resources.map((r) => r.uri);
      assert.ok(!resources.some((uri) => uri.startsWith("fal://jobs/")), resources.join(", "));
      const resourcesModern = (await bobModern.listResources()).resources.map((r) => r.uri);
      assert.ok(!resourcesModern.some((uri) => uri.startsWith("fal://jobs/")));
      assert.deepEqual((await bob.experimental.tasks.listTasks()).tasks, []);

      // Reads and cancels by id: exactly what an id that never existed answers.
      const foreign = await probe(bob, bobModern, job);
      const unknown = await probe(bob, bobModern, NEVER);
      assert.deepEqual(foreign, unknown);
      for (const [call, answer] of Object.entries(foreign)) {
        assert.match(answer, /Unknown job id \\?"<id>\\?"/, call);
      }

      // Alice's job is untouched and hers alone.
      assert.equal(fake.state.jobs.get(job)?.cancelled, false);
      const mine = await call(alice, "list_jobs", {});
      assert.deepEqual(
        (mine.structuredContent?.jobs as { job_id: string }[]).map((j) => j.job_id),
        [job],
      );
      const read = await alice.readResource({ uri: `fal://jobs/${job}` });
      assert.match(JSON.stringify(read.contents), /fal-ai\/flux\/dev/);
      const task = await alice.experimental.tasks.getTask(job);
      assert.equal(task.status, "working");
      assert.ok((await alice.experimental.tasks.listTasks()).tasks.some((t) => t.taskId === job));
      const cancelled = await call(alice, "cancel_job", { job_id: job });
      assert.notEqual(cancelled.isError, true, allText(cancelled));
      assert.equal(fake.state.jobs.get(job)?.cancelled, true);
    } finally {
      await Promise.allSettled([alice.close(), bob.close(), bobModern.close()]);
      await server.close();
    }
  });
});
