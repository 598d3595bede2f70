import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import {
  initializeBody,
  modernRequest,
  post,
  POST_HEADERS,
  readMessage,
} from "./helpers/raw_mcp.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";

const TOKEN_A = "token-a-0123456789abcdef";
const TOKEN_B = "token-b-fedcba9876543210";

Deno.test("rate limit: a principal over its per-minute budget gets 429 with Retry-After; others do not", async () => {
  const server = await startTestHttpServer({
    env: { FAL_MCP_AUTH_TOKENS: `${TOKEN_A},${TOKEN_B}` },
    args: ["--rate-limit", "3"],
  });
  try {
    const as = (token: string) => ({ ...POST_HEADERS, authorization: `Bearer ${token}` });
    const { body, headers } = modernRequest("tools/list");
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await post(`${server.url}/mcp`, body, { ...headers, ...as(TOKEN_A) });
      statuses.push(res.status);
      if (res.status === 429) {
        assert.ok(Number(res.headers.get("retry-after")) >= 1);
        assert.match((await res.json()).error.message, /Too Many Requests/);
      } else await res.body?.cancel();
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    const other = await post(`${server.url}/mcp`, body, { ...headers, ...as(TOKEN_B) });
    assert.equal(other.status, 200);
    await other.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("stream limit: once --max-streams streams are open, a new one answers 503", async () => {
  const server = await startTestHttpServer({ args: ["--max-streams", "1"] });
  try {
    const first = await fetch(`${server.url}/sse`, { headers: { accept: "text/event-stream" } });
    assert.equal(first.status, 200);
    const second = await fetch(`${server.url}/sse`, { headers: { accept: "text/event-stream" } });
    assert.equal(second.status, 503);
    assert.match((await second.json()).error.message, /streams are open/);
    await first.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("--max-body-bytes caps request bodies with 413", async () => {
  const server = await startTestHttpServer({ args: ["--max-body-bytes", "2048"] });
  try {
    const big = JSON.stringify({ ...initializeBody(), pad: "x".repeat(4096) });
    const res = await post(`${server.url}/mcp`, big);
    assert.equal(res.status, 413);
    await res.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("metrics and access logs record requests, tool calls, fal calls, sessions and jobs", async () => {
  await withFakeFal(async (fake) => {
    const lines: string[] = [];
    const server = await startTestHttpServer({ env: falEnv(fake), logLines: lines });
    try {
      const { body, headers } = modernRequest("tools/call", {
        name: "generate_image",
        arguments: { prompt: "a fox" },
      });
      const res = await post(`${server.url}/mcp`, body, { ...headers, "x-request-id": "req-42" });
      assert.equal(res.headers.get("x-request-id"), "req-42");
      await readMessage(res);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      for (
        const expected of [
          /fal_mcp_tool_calls_total\{outcome="ok",tool="generate_image"\} 1/,
          /fal_mcp_tool_call_duration_seconds_count\{tool="generate_image"\} 1/,
          /fal_mcp_http_requests_total\{method="POST",status="200",transport="streamable_http"\} 1/,
          /fal_mcp_fal_requests_total\{api="queue",method="POST",status="200"\} 1/,
          /fal_mcp_jobs_total\{status="COMPLETED"\} 1/,
          /fal_mcp_sessions\{transport="streamable_http"\} 0/,
          /fal_mcp_open_streams 0/,
          /# TYPE fal_mcp_tool_call_duration_seconds histogram/,
        ]
      ) assert.match(metrics, expected);
      const access = lines.map((l) => JSON.parse(l)).find((r) =>
        r.msg === "request" && r.request_id === "req-42"
      );
      assert.ok(access, "no access log line for the request");
      assert.equal(access.principal, "local");
      assert.equal(access.rpc_method, "tools/call");
      assert.equal(access.tool, "generate_image");
      assert.equal(access.status, 200);
      assert.equal(typeof access.duration_ms, "number");
    } finally {
      await server.close();
    }
  });
});
