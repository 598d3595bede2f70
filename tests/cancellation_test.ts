import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { modernRequest, post, readMessage } from "./helpers/raw_mcp.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import type { FakeFal } from "./fake_fal/server.ts";
import { waitFor } from "./helpers/wait_for.ts";

interface ToolCallAnswer {
  result: { isError?: boolean; content: { text: string }[] };
}

const SLOW_INPUT = { prompt: "a slow painting", fake_duration_ms: 20_000 };

function jobs(fake: FakeFal) {
  return [...fake.state.jobs.values()];
}

Deno.test("cancelling a run_model call (notifications/cancelled) cancels the fal job", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const client = new Client({ name: "cancel-test", version: "1.0.0" });
    try {
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)),
      );
      const controller = new AbortController();
      const call = client.callTool(
        {
          name: "run_model",
          arguments: {
            endpoint_id: "fal-ai/flux/dev",
            input: SLOW_INPUT,
            validate: false,
          },
        },
        { signal: controller.signal },
      );
      await waitFor(() => jobs(fake).length === 1);
      controller.abort("user changed their mind");
      await assert.rejects(call);
      await waitFor(() => jobs(fake)[0]!.cancelled);
      assert.equal(jobs(fake)[0]!.cancelled, true);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

Deno.test("a call cancelled while its submit is still being answered still gets its fal job cancelled", async () => {
  await withFakeFal(async (fake) => {
    // fal accepts the job at once but its answer takes a while: the call is cancelled meanwhile.
    fake.injectFault({
      match: "submit",
      respond: "delay_answer",
      delayMs: 1000,
    });
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const client = new Client({ name: "cancel-test", version: "1.0.0" });
    try {
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)),
      );
      const controller = new AbortController();
      const call = client.callTool(
        {
          name: "run_model",
          arguments: {
            endpoint_id: "fal-ai/flux/dev",
            input: SLOW_INPUT,
            validate: false,
          },
        },
        { signal: controller.signal },
      );
      await waitFor(() => jobs(fake).length === 1);
      controller.abort("user changed their mind");
      await assert.rejects(call);
      await waitFor(
        () => jobs(fake)[0]!.cancelled,
        "the job to be cancelled at fal",
      );
      assert.equal(jobs(fake)[0]!.cancelled, true);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

Deno.test("a 2026-07-28 client that disconnects mid-call gets its fal job cancelled", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    try {
      const { body, headers } = modernRequest("tools/call", {
        name: "run_model",
        arguments: {
          endpoint_id: "fal-ai/flux/dev",
          input: SLOW_INPUT,
          validate: false,
        },
      });
      // A raw socket, closed mid-call, is a client going away. (Deno's own fetch keeps the
      // connection open after an abort when the request is large, so it cannot stand in here.)
      const { port } = new URL(server.url);
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: Number(port),
      });
      const payload = JSON.stringify(body);
      const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`)
        .join("");
      await conn.write(new TextEncoder().encode(
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${head}` +
          `Content-Length: ${new TextEncoder().encode(payload).length}\r\n\r\n${payload}`,
      ));
      await waitFor(() => jobs(fake).length === 1);
      conn.close();
      await waitFor(() => jobs(fake)[0]!.cancelled);
      assert.equal(jobs(fake)[0]!.cancelled, true);
    } finally {
      await server.close();
    }
  });
});

Deno.test("run_model with an input the model rejects answers a tool error naming the field", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    try {
      const { body, headers } = modernRequest("tools/call", {
        name: "run_model",
        arguments: {
          endpoint_id: "fal-ai/flux/dev",
          input: { seed: 1 },
          validate: false,
        },
      });
      const response = await post(`${server.url}/mcp`, body, headers);
      const message = await readMessage<ToolCallAnswer>(response);
      assert.equal(message.result.isError, true);
      const text = message.result.content[0]!.text as string;
      assert.match(text, /fal-ai\/flux\/dev/);
      assert.match(text, /failed/);
      assert.match(text, /prompt/);
    } finally {
      await server.close();
    }
  });
});

Deno.test("run_model with an unknown endpoint answers a tool error saying fal does not know it", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    try {
      const { body, headers } = modernRequest("tools/call", {
        name: "run_model",
        arguments: { endpoint_id: "nobody/nothing", input: { prompt: "x" } },
      });
      const message = await readMessage<ToolCallAnswer>(
        await post(`${server.url}/mcp`, body, headers),
      );
      assert.equal(message.result.isError, true);
      assert.match(
        message.result.content[0]!.text,
        /Unknown endpoint id "nobody\/nothing"/,
      );
      assert.equal(jobs(fake).length, 0);
    } finally {
      await server.close();
    }
  });
});

Deno.test("run_model with a malformed endpoint id answers a tool error before calling fal", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    try {
      const { body, headers } = modernRequest("tools/call", {
        name: "run_model",
        arguments: { endpoint_id: "../../etc/passwd", input: {} },
      });
      const message = await readMessage<ToolCallAnswer>(
        await post(`${server.url}/mcp`, body, headers),
      );
      assert.equal(message.result.isError, true);
      assert.match(message.result.content[0]!.text, /Invalid endpoint id/);
      assert.equal(jobs(fake).length, 0);
    } finally {
      await server.close();
    }
  });
});
