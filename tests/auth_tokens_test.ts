import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { assertSafeBind } from "../src/bind_policy.ts";
import { ConfigError } from "../src/errors.ts";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { runMain } from "./helpers/process.ts";
import { initializeBody, post, POST_HEADERS } from "./helpers/raw_mcp.ts";
import { SSEClientTransport } from "./helpers/sdk_v1.ts";
import { Client as ClientV1 } from "./helpers/sdk_v1.ts";

const TOKEN_A = "token-a-0123456789abcdef";
const TOKEN_B = "token-b-fedcba9876543210";
const env = { FAL_MCP_AUTH_TOKENS: `${TOKEN_A}, ${TOKEN_B}` };

Deno.test("bearer tokens: a request without a token answers 401 with WWW-Authenticate", async () => {
  const server = await startTestHttpServer({ env });
  try {
    for (
      const [method, path] of [["POST", "/mcp"], ["GET", "/sse"], [
        "POST",
        "/messages/?session_id=x",
      ]]
    ) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: POST_HEADERS,
        body: method === "POST" ? JSON.stringify(initializeBody()) : null,
      });
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="fal-mcp"');
      const body = await res.json();
      assert.match(body.error.message, /Authorization: Bearer/);
    }
  } finally {
    await server.close();
  }
});

Deno.test("bearer tokens: a wrong token answers 401 invalid_token; /health and /ready stay open", async () => {
  const server = await startTestHttpServer({ env });
  try {
    const res = await post(`${server.url}/mcp`, initializeBody(), {
      ...POST_HEADERS,
      authorization: "Bearer not-the-right-token-at-all",
    });
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /error="invalid_token"/);
    await res.body?.cancel();
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    const ready = await fetch(`${server.url}/ready`);
    assert.equal(ready.status, 200);
    await ready.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("bearer tokens: each configured token admits a real client on /mcp and /sse", async () => {
  const server = await startTestHttpServer({ env });
  try {
    for (const token of [TOKEN_A, TOKEN_B]) {
      const client = new Client({ name: "token-test", version: "1.0.0" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      assert.ok((await client.listTools()).tools.length > 5);
      await client.close();
    }
    const legacy = new ClientV1({ name: "token-test-sse", version: "1.0.0" });
    await legacy.connect(
      new SSEClientTransport(new URL(`${server.url}/sse`), {
        requestInit: { headers: { authorization: `Bearer ${TOKEN_A}` } },
        eventSourceInit: {
          fetch: (url, init) =>
            fetch(url, {
              ...init,
              headers: { ...init?.headers, authorization: `Bearer ${TOKEN_A}` },
            }),
        },
      }),
    );
    assert.ok((await legacy.listTools()).tools.length > 5);
    await legacy.close();
  } finally {
    await server.close();
  }
});

Deno.test("bearer tokens: a session opened with one token is not usable with another", async () => {
  const server = await startTestHttpServer({ env });
  try {
    const init = await post(`${server.url}/mcp`, initializeBody(), {
      ...POST_HEADERS,
      authorization: `Bearer ${TOKEN_A}`,
    });
    const sessionId = init.headers.get("mcp-session-id")!;
    await init.body?.cancel();
    const hijack = await post(
      `${server.url}/mcp`,
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      {
        ...POST_HEADERS,
        authorization: `Bearer ${TOKEN_B}`,
        "mcp-session-id": sessionId,
        "mcp-protocol-version": "2025-06-18",
      },
    );
    assert.equal(hijack.status, 404);
    await hijack.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("tokens come from --auth-tokens-file (one per line, # comments) and must be long", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, `# operators\n${TOKEN_A}\n\n`);
    const server = await startTestHttpServer({ args: ["--auth-tokens-file", file] });
    try {
      const ok = await post(`${server.url}/mcp`, initializeBody(), {
        ...POST_HEADERS,
        authorization: `Bearer ${TOKEN_A}`,
      });
      assert.equal(ok.status, 200);
      await ok.body?.cancel();
    } finally {
      await server.close();
    }
    await assert.rejects(
      startTestHttpServer({ env: { FAL_MCP_AUTH_TOKENS: "short" } }),
      (error: unknown) =>
        error instanceof ConfigError && /at least 16 characters/.test(error.message),
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("binding a non-loopback address without auth is refused unless --allow-unauthenticated", async () => {
  const refused = await runMain(["--transport", "http", "--host", "0.0.0.0", "--port", "0"]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /Refusing to serve 0\.0\.0\.0:0 without authentication/);
  await assert.rejects(
    startTestHttpServer({ args: ["--host", "0.0.0.0"] }),
    /Refusing to serve/,
  );
  // The accepted cases are checked without binding a public address.
  const base = { transport: "http", host: "0.0.0.0", port: 8000, oauth: undefined } as const;
  assert.doesNotThrow(() =>
    assertSafeBind({ ...base, authTokens: [], allowUnauthenticated: true })
  );
  assert.doesNotThrow(() =>
    assertSafeBind({ ...base, authTokens: [TOKEN_A], allowUnauthenticated: false })
  );
  assert.doesNotThrow(() =>
    assertSafeBind({ ...base, host: "127.0.0.1", authTokens: [], allowUnauthenticated: false })
  );
  assert.throws(() => assertSafeBind({ ...base, authTokens: [], allowUnauthenticated: false }));
});
