import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import {
  modernRequest,
  openSession,
  post,
  readMessage,
  sessionHeaders,
} from "./helpers/raw_mcp.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";

interface Answer {
  id: number;
  result: {
    content: { type: string; text?: string }[];
    structuredContent?: Record<string, unknown>;
  };
}

Deno.test("clients reusing request id 1 concurrently each get their own response (2026-07-28)", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    try {
      const prompts = ["a fox", "an owl", "a whale", "a heron", "a lynx"];
      const answers = await Promise.all(prompts.map(async (prompt) => {
        const { body, headers } = modernRequest("tools/call", {
          name: "run_model",
          arguments: { endpoint_id: "fal-ai/flux/dev", input: { prompt, seed: 1 } },
        }, 1);
        return await readMessage<Answer>(await post(`${server.url}/mcp`, body, headers));
      }));
      answers.forEach((answer, i) => {
        assert.equal(answer.id, 1);
        const result = answer.result.structuredContent?.result as { prompt?: string };
        assert.equal(result.prompt, prompts[i], "a response went to the wrong client");
      });
    } finally {
      await server.close();
    }
  });
});

Deno.test("two 2025 sessions both using request id 1 concurrently each get their own response", async () => {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    const mcp = `${server.url}/mcp`;
    try {
      const sessions = await Promise.all([openSession(mcp), openSession(mcp), openSession(mcp)]);
      const prompts = ["red", "green", "blue"];
      const answers = await Promise.all(
        sessions.map(async (session, i) =>
          await readMessage<Answer>(
            await post(mcp, {
              jsonrpc: "2.0",
              id: 1,
              method: "tools/call",
              params: {
                name: "run_model",
                arguments: { endpoint_id: "fal-ai/flux/dev", input: { prompt: prompts[i] } },
              },
            }, sessionHeaders(session)),
          )
        ),
      );
      answers.forEach((answer, i) => {
        const result = answer.result.structuredContent?.result as { prompt?: string };
        assert.equal(result.prompt, prompts[i]);
      });
    } finally {
      await server.close();
    }
  });
});
