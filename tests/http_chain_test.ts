/**
 * The route table and the one ordered chain of checks in front of the MCP endpoints:
 * guard → CORS → auth → limits, each step answering before the next runs.
 */
import assert from "node:assert/strict";
import { Admission } from "../src/http/admission.ts";
import { chain, type Check, newRequestContext } from "../src/http/chain.ts";
import { route } from "../src/http/routes.ts";
import { CallsInFlight } from "../src/calls_in_flight.ts";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { modernRequest, post } from "./helpers/raw_mcp.ts";

const TOKEN = "chain-test-token-0123456789abcdef";

function ctxFor(path: string, method = "GET") {
  return newRequestContext(
    new Request(`http://127.0.0.1${path}`, { method }),
    path,
    "req-1",
  );
}

Deno.test("a chain runs its checks in order; a check that answers stops the ones after it", async () => {
  const seen: string[] = [];
  const step = (name: string, refuse = false): Check => async (_ctx, next) => {
    seen.push(name);
    if (refuse) return new Response(name, { status: 403 });
    const response = await next();
    response.headers.append("x-steps", name);
    return response;
  };
  const handler = chain([step("a"), step("b"), step("c")], () => {
    seen.push("handler");
    return new Response("ok");
  });
  const response = await handler(ctxFor("/"));
  assert.deepEqual(seen, ["a", "b", "c", "handler"]);
  assert.equal(
    response.headers.get("x-steps"),
    "c, b, a",
    "responses come back through each step",
  );

  seen.length = 0;
  const refused = await chain(
    [step("a"), step("b", true), step("c")],
    () => new Response(),
  )(
    ctxFor("/"),
  );
  assert.equal(await refused.text(), "b");
  assert.deepEqual(seen, ["a", "b"]);
});

Deno.test("a check that calls next() twice fails the request instead of running the handler twice", async () => {
  let runs = 0;
  const twice: Check = async (_ctx, next) => {
    await next();
    return await next();
  };
  await assert.rejects(
    async () =>
      await chain([twice], () => {
        runs++;
        return new Response();
      })(ctxFor("/")),
    /next\(\) twice/,
  );
  assert.equal(runs, 1);
});

Deno.test("the route table: exact rows, subtrees in order, 405 with Allow, a fallback for the rest", async () => {
  const text = (body: string) => () => new Response(body);
  const serve = route([
    { path: "/health", methods: ["GET", "HEAD"], handler: text("health") },
    { path: "/studio/api", subtree: true, handler: text("api") },
    { path: "/studio", subtree: true, handler: text("studio") },
    { path: "/studio/api/exact", handler: text("exact") },
  ], () => new Response("fallback", { status: 404 }));
  const body = async (path: string, method = "GET") => {
    const response = await serve(ctxFor(path, method));
    return `${response.status} ${await response.text()}`;
  };
  assert.equal(await body("/health"), "200 health");
  assert.equal(await body("/studio"), "200 studio");
  assert.equal(await body("/studio/app.js"), "200 studio");
  assert.equal(await body("/studio/api/jobs"), "200 api");
  assert.equal(await body("/studio/api/exact"), "200 exact");
  assert.equal(await body("/studiox"), "404 fallback");
  const wrong = await serve(ctxFor("/health", "POST"));
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "GET, HEAD");
  assert.equal((await wrong.json()).error.code, -32600);
  assert.throws(
    () =>
      route([{ path: "/a", handler: text("1") }, {
        path: "/a",
        handler: text("2"),
      }], text("")),
    /listed twice/,
  );
});

Deno.test("the MCP chain: a refused Origin answers 403 before authentication is asked", async () => {
  const server = await startTestHttpServer({
    env: { FAL_MCP_AUTH_TOKENS: TOKEN },
  });
  try {
    const { body, headers } = modernRequest("tools/list", {}, 1);
    const response = await post(`${server.url}/mcp`, body, {
      ...headers,
      origin: "https://evil.example",
    });
    assert.equal(response.status, 403);
    assert.match((await response.json()).error.message, /Origin/);
    assert.equal(response.headers.get("access-control-allow-origin"), null);
  } finally {
    await server.close();
  }
});

Deno.test("the MCP chain: a preflight is answered by CORS without a token; a 401 carries CORS headers", async () => {
  const origin = "http://localhost:5173";
  const server = await startTestHttpServer({
    env: { FAL_MCP_AUTH_TOKENS: TOKEN },
  });
  try {
    const preflight = await fetch(`${server.url}/mcp`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST" },
    });
    await preflight.body?.cancel();
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), origin);
    const { body, headers } = modernRequest("tools/list", {}, 1);
    const unauthorized = await post(`${server.url}/mcp`, body, {
      ...headers,
      origin,
    });
    await unauthorized.body?.cancel();
    assert.equal(unauthorized.status, 401);
    assert.equal(
      unauthorized.headers.get("access-control-allow-origin"),
      origin,
    );
    assert.ok(
      unauthorized.headers.get("access-control-expose-headers")?.includes(
        "www-authenticate",
      ),
    );
  } finally {
    await server.close();
  }
});

Deno.test("the MCP chain: authentication comes before limits, so a caller without a token never takes a slot", async () => {
  const server = await startTestHttpServer({
    env: { FAL_MCP_AUTH_TOKENS: TOKEN },
    args: ["--rate-limit", "1"],
  });
  try {
    const { body, headers } = modernRequest("tools/list", {}, 1);
    for (let i = 0; i < 3; i++) {
      const anonymous = await post(`${server.url}/mcp`, body, headers);
      await anonymous.body?.cancel();
      assert.equal(
        anonymous.status,
        401,
        "no token: refused by auth, not by the rate limit",
      );
    }
    const authorized = { ...headers, authorization: `Bearer ${TOKEN}` };
    const first = await post(`${server.url}/mcp`, body, authorized);
    await first.body?.cancel();
    assert.equal(
      first.status,
      200,
      "the 401s did not use up the caller's rate",
    );
    const second = await post(`${server.url}/mcp`, body, authorized);
    assert.equal(second.status, 429);
    assert.match((await second.json()).error.message, /Too Many Requests/);
  } finally {
    await server.close();
  }
});

Deno.test("an admission slot put on the request context is released once, when the response ends", () => {
  const admission = new Admission({ maxInFlight: 1, fdLimit: undefined });
  const ctx = ctxFor("/mcp", "POST");
  const ticket = admission.admit();
  assert.ok(ticket.ok);
  ctx.atEnd(ticket.release);
  assert.equal(admission.inFlight, 1);
  assert.equal(admission.admit().ok, false);
  ctx.end();
  ctx.end();
  assert.equal(
    admission.inFlight,
    0,
    "released once, however often the end is reported",
  );
});

Deno.test("in-flight tool calls are counted explicitly; idle() waits for the last one", async () => {
  const calls = new CallsInFlight();
  assert.equal(await calls.idle(0), true);
  const release = Promise.withResolvers<void>();
  const call = calls.hold(() => release.promise);
  const leave = calls.enter();
  assert.equal(calls.count, 2);
  assert.equal(
    await calls.idle(1),
    false,
    "times out while calls are under way",
  );
  leave();
  leave();
  assert.equal(calls.count, 1, "leaving twice counts once");
  const idle = calls.idle(60_000);
  release.resolve();
  await call;
  assert.equal(await idle, true);
  assert.equal(calls.count, 0);
});

Deno.test("/metrics reports the tool calls under way from the server's own counter", async () => {
  const server = await startTestHttpServer();
  try {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /^fal_mcp_tool_calls_in_flight 0$/m);
  } finally {
    await server.close();
  }
});
