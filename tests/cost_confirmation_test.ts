import { Client as ClientV2, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http_server.ts";
import { ModernClient, TASKS_CAPABILITIES } from "./helpers/modern_client.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import type { FakeFal } from "./fake_fal/server.ts";
import {
  Client as ClientV1,
  StreamableHTTPClientTransport as StreamableV1,
} from "./helpers/sdk_v1.ts";

const VIDEO = "fal-ai/kling-video/v2/master/text-to-video"; // about $1.68 a call at the fake
const IMAGE = "fal-ai/flux/dev"; // about $0.04 a call

async function withServer(
  args: string[],
  fn: (server: TestHttpServer, fake: FakeFal) => Promise<void>,
): Promise<void> {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({
      env: falEnv(fake),
      args: ["--sync-wait", "0", ...args],
    });
    try {
      await fn(server, fake);
    } finally {
      await server.close();
    }
  });
}

function videoCall(extra: Record<string, unknown> = {}) {
  return {
    name: "run_model",
    arguments: { endpoint_id: VIDEO, input: { prompt: "waves at dusk" } },
    ...extra,
  };
}

Deno.test("cost confirmation (2026): a costly run answers input_required with a signed requestState; accepting runs it", async () => {
  await withServer(["--confirm-above-usd", "1"], async (server, fake) => {
    const client = new ModernClient(`${server.url}/mcp`, {
      elicitation: {},
      ...TASKS_CAPABILITIES,
    });
    const first = await client.request("tools/call", videoCall());
    const asked = first.result!;
    assert.equal(asked.resultType, "input_required", JSON.stringify(asked));
    const request =
      (asked.inputRequests as Record<string, { method: string; params: { message: string } }>)
        .confirm_cost!;
    assert.equal(request.method, "elicitation/create");
    assert.match(request.params.message, /\$1\.68/);
    assert.equal(typeof asked.requestState, "string");
    assert.equal(fake.state.jobs.size, 0, "nothing is submitted before the user agrees");

    // A tampered state is refused.
    const tampered = await client.request(
      "tools/call",
      videoCall({
        inputResponses: { confirm_cost: { action: "accept", content: { confirm: true } } },
        requestState: `${asked.requestState}x`,
      }),
    );
    assert.equal(tampered.error?.code, -32602);

    // Declining runs nothing.
    const declined = await client.request(
      "tools/call",
      videoCall({
        inputResponses: { confirm_cost: { action: "decline" } },
        requestState: asked.requestState,
      }),
    );
    assert.equal(declined.result?.isError, true);
    assert.match(JSON.stringify(declined.result), /did not confirm/);
    assert.equal(fake.state.jobs.size, 0);

    // Any instance with the secret can resume: here, a fresh client on the same server.
    const again = new ModernClient(`${server.url}/mcp`, { elicitation: {}, ...TASKS_CAPABILITIES });
    const accepted = await again.request(
      "tools/call",
      videoCall({
        inputResponses: { confirm_cost: { action: "accept", content: { confirm: true } } },
        requestState: asked.requestState,
      }),
    );
    assert.equal(accepted.error, undefined, JSON.stringify(accepted.error));
    assert.equal(accepted.result?.resultType, "task", JSON.stringify(accepted.result));
    assert.equal(fake.state.jobs.size, 1);

    // The same accepted confirmation sent again runs nothing more.
    const replayed = await again.request(
      "tools/call",
      videoCall({
        inputResponses: { confirm_cost: { action: "accept", content: { confirm: true } } },
        requestState: asked.requestState,
      }),
    );
    assert.match(JSON.stringify(replayed), /already used/);
    assert.equal(fake.state.jobs.size, 1);

    // Cheap runs are not asked about.
    const cheap = await client.request("tools/call", {
      name: "run_model",
      arguments: { endpoint_id: IMAGE, input: { prompt: "a fox" } },
    });
    assert.notEqual(cheap.result?.resultType, "input_required");
  });
});

Deno.test("cost confirmation (2026): the SDK client answers the elicitation and the run goes ahead", async () => {
  await withServer(["--confirm-above-usd", "1"], async (server, fake) => {
    const client = new ClientV2({ name: "modern-confirm", version: "1.0.0" }, {
      capabilities: { elicitation: { form: {} } },
      versionNegotiation: { mode: { pin: "2026-07-28" } },
    });
    const messages: string[] = [];
    client.setRequestHandler("elicitation/create", (request) => {
      messages.push(String(request.params.message));
      return { action: "accept", content: { confirm: true } };
    });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
      const result = await client.callTool(videoCall());
      assert.notEqual(result.isError, true, JSON.stringify(result));
      assert.equal(messages.length, 1);
      assert.match(messages[0]!, /\$1\.68/);
      assert.equal(fake.state.jobs.size, 1);
    } finally {
      await client.close();
    }
  });
});

Deno.test("cost confirmation (2025): a session client is sent elicitation/create; declining runs nothing", async () => {
  await withServer(["--confirm-above-usd", "1"], async (server, fake) => {
    const client = new ClientV2({ name: "legacy-confirm", version: "1.0.0" }, {
      capabilities: { elicitation: { form: {} } },
      versionNegotiation: { mode: "legacy" },
    });
    let answer: "accept" | "decline" = "decline";
    const messages: string[] = [];
    client.setRequestHandler("elicitation/create", (request) => {
      messages.push(String(request.params.message));
      return answer === "accept"
        ? { action: "accept", content: { confirm: true } }
        : { action: "decline" };
    });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
      const declined = await client.callTool(videoCall());
      assert.equal(declined.isError, true);
      assert.equal(fake.state.jobs.size, 0);
      answer = "accept";
      const accepted = await client.callTool(videoCall());
      assert.notEqual(accepted.isError, true, JSON.stringify(accepted));
      assert.equal(fake.state.jobs.size, 1);
      assert.equal(messages.length, 2);
      assert.match(messages[0]!, /above the \$1\.00 confirmation threshold/);
    } finally {
      await client.close();
    }
  });
});

Deno.test("cost confirmation: clients without elicitation get a one-time confirm token", async () => {
  await withServer(["--confirm-above-usd", "1"], async (server, fake) => {
    const client = new ModernClient(`${server.url}/mcp`);
    const first = await client.request("tools/call", videoCall());
    const structured = first.result?.structuredContent as {
      confirmation_required: boolean;
      estimate_usd: number;
      confirm_token: string;
    };
    assert.equal(structured.confirmation_required, true);
    assert.equal(structured.estimate_usd, 1.68);
    assert.equal(fake.state.jobs.size, 0);

    const withToken = (token: string, prompt = "waves at dusk") =>
      client.request("tools/call", {
        name: "run_model",
        arguments: { endpoint_id: VIDEO, input: { prompt }, confirm_token: token },
      });
    const other = await withToken(structured.confirm_token, "another prompt");
    assert.match(JSON.stringify(other.result), /issued for a different call/);
    const ran = await withToken(structured.confirm_token);
    assert.notEqual(ran.result?.isError, true, JSON.stringify(ran.result));
    assert.equal(fake.state.jobs.size, 1);
    const reused = await withToken(structured.confirm_token);
    assert.match(JSON.stringify(reused.result), /already used/);
    assert.equal(fake.state.jobs.size, 1);
  });
});

Deno.test("budget: runs past the daily budget are refused with the spend so far", async () => {
  await withServer(["--budget-usd-per-day", "2"], async (server, fake) => {
    const client = new ModernClient(`${server.url}/mcp`);
    const first = await client.request("tools/call", videoCall());
    assert.notEqual(first.result?.isError, true, JSON.stringify(first.result));
    const second = await client.request("tools/call", videoCall());
    assert.equal(second.result?.isError, true);
    assert.match(
      JSON.stringify(second.result),
      /today's spend so far is \$1\.68 of the \$2\.00 daily budget/,
    );
    assert.equal(fake.state.jobs.size, 1);
    // A cheaper run still fits.
    const cheap = await client.request("tools/call", {
      name: "submit_job",
      arguments: { endpoint_id: IMAGE, input: { prompt: "a fox" } },
    });
    assert.notEqual(cheap.result?.isError, true);
    assert.equal(fake.state.jobs.size, 2);
  });
});

Deno.test("cost confirmation (2025 MCP tasks): a task-augmented call asks first, then starts the task", async () => {
  await withServer(["--confirm-above-usd", "1"], async (server, fake) => {
    // @ts-types="@modelcontextprotocol/sdk/types"
    const { ElicitRequestSchema } = await import("@modelcontextprotocol/sdk/types.js");
    const client = new ClientV1({ name: "tasks-confirm", version: "1.0.0" }, {
      capabilities: { elicitation: {} },
    });
    const messages: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, (request: { params: { message: string } }) => {
      messages.push(request.params.message);
      return { action: "accept", content: { confirm: true } };
    });
    try {
      await client.connect(new StreamableV1(new URL(`${server.url}/mcp`)));
      await client.listTools();
      const kinds: string[] = [];
      for await (const message of client.experimental.tasks.callToolStream(videoCall())) {
        kinds.push(message.type);
        if (message.type === "error") throw message.error;
      }
      assert.equal(kinds[0], "taskCreated");
      assert.equal(kinds.at(-1), "result");
      assert.equal(messages.length, 1);
      assert.match(messages[0]!, /\$1\.68/);
      assert.equal(fake.state.jobs.size, 1);
    } finally {
      await client.close();
    }
  });
});
