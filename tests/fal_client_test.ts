import assert from "node:assert/strict";
import { FalClient } from "../src/fal/client.ts";
import { parseEndpointId } from "../src/fal/endpoint_id.ts";
import { FalApiError, MissingFalKeyError } from "../src/fal/errors.ts";
import { resolveFalHosts } from "../src/fal/hosts.ts";

const KEY = "key-id:very-secret-value";

interface Seen {
  method: string;
  url: string;
  authorization: string | null;
}

/** A fetch that answers from a script and records what it was asked. */
function scriptedFetch(responses: (() => Response)[]): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetchImpl = (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    seen.push({
      method: request.method,
      url: request.url,
      authorization: request.headers.get("authorization"),
    });
    const next = responses.shift();
    if (!next) throw new Error(`unexpected call ${request.method} ${request.url}`);
    return Promise.resolve(next());
  };
  return { fetch: fetchImpl as typeof fetch, seen };
}

function client(fetchImpl: typeof fetch, key: string | null = KEY): FalClient {
  return new FalClient({
    hosts: resolveFalHosts("http://fal.test"),
    key: key ?? undefined,
    fetch: fetchImpl,
    retryBaseMs: 1,
  });
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) => () =>
  Response.json(body, { status, headers });

Deno.test("endpoint ids: full id for submits, app id for status/result/cancel", () => {
  assert.deepEqual(parseEndpointId("fal-ai/flux/dev"), {
    full: "fal-ai/flux/dev",
    app: "fal-ai/flux",
  });
  assert.deepEqual(
    parseEndpointId("fal-ai/kling-video/v2/master/text-to-video").app,
    "fal-ai/kling-video",
  );
  assert.deepEqual(parseEndpointId("workflows/me/my-flow"), {
    full: "workflows/me/my-flow",
    app: "workflows/me/my-flow",
  });
  for (const bad of ["flux", "fal-ai/../x", "/fal-ai/flux", "fal-ai/flux dev", ""]) {
    assert.throws(() => parseEndpointId(bad), /Invalid endpoint id/, bad);
  }
});

Deno.test("submit sends the key to the queue host and status goes to the app path", async () => {
  const { fetch, seen } = scriptedFetch([
    json({ request_id: "req-1", status: "IN_QUEUE" }),
    json({ status: "IN_PROGRESS", logs: [] }, 202),
  ]);
  const fal = client(fetch);
  const submission = await fal.submit("fal-ai/flux/dev", { prompt: "x" });
  assert.equal(submission.request_id, "req-1");
  await fal.status("fal-ai/flux/dev", "req-1");
  assert.deepEqual(seen.map((s) => `${s.method} ${s.url}`), [
    "POST http://fal.test/queue/fal-ai/flux/dev",
    "GET http://fal.test/queue/fal-ai/flux/requests/req-1/status?logs=1",
  ]);
  assert.ok(seen.every((s) => s.authorization === `Key ${KEY}`));
});

Deno.test("status reads retry 503 and 500, honouring Retry-After", async () => {
  const { fetch, seen } = scriptedFetch([
    json({ detail: "busy" }, 503, { "retry-after": "0" }),
    json({ detail: "oops" }, 500),
    json({ status: "COMPLETED" }),
  ]);
  const status = await client(fetch).status("fal-ai/flux/dev", "req-1");
  assert.equal(status.status, "COMPLETED");
  assert.equal(seen.length, 3);
});

Deno.test("a submit answered 502/503/504 is retried, like fal's JS client, then succeeds", async () => {
  const { fetch, seen } = scriptedFetch([
    json({ detail: "Bad gateway" }, 502),
    json({ detail: "busy" }, 503),
    json({ detail: "Gateway timeout" }, 504),
    json({ request_id: "req-3" }),
  ]);
  assert.equal((await client(fetch).submit("fal-ai/flux/dev", {})).request_id, "req-3");
  assert.equal(seen.length, 4);
});

Deno.test("submit retries are bounded: the last 502 is reported", async () => {
  const { fetch, seen } = scriptedFetch(
    Array.from({ length: 6 }, () => json({ detail: "Bad gateway" }, 502)),
  );
  await assert.rejects(client(fetch).submit("fal-ai/flux/dev", {}), (error: unknown) => {
    assert.ok(error instanceof FalApiError);
    assert.equal(error.falStatus, 502);
    assert.equal(
      error.message,
      "Cannot submit job to fal-ai/flux/dev: fal answered 502: Bad gateway",
    );
    return true;
  });
  assert.equal(seen.length, 4, "four attempts, then the error");
});

Deno.test("a submit that fails with a network error is retried, like fal's JS client", async () => {
  let calls = 0;
  const flaky = ((input: RequestInfo | URL, init?: RequestInit) => {
    calls++;
    if (calls === 1) return Promise.reject(new TypeError("connection reset"));
    void new Request(input, init);
    return Promise.resolve(json({ request_id: "req-net" })());
  }) as typeof fetch;
  assert.equal((await client(flaky).submit("fal-ai/flux/dev", {})).request_id, "req-net");
  assert.equal(calls, 2);
});

Deno.test("a sync run that fails with a network error is not resent (it would run and bill twice)", async () => {
  let calls = 0;
  const broken = (() => {
    calls++;
    return Promise.reject(new TypeError("connection reset"));
  }) as typeof fetch;
  await assert.rejects(client(broken).run("fal-ai/flux/dev", {}), FalApiError);
  assert.equal(calls, 1);
});

Deno.test("a submit answered 500 is not retried (the app answered)", async () => {
  const { fetch, seen } = scriptedFetch([json({ detail: "oops" }, 500)]);
  await assert.rejects(client(fetch).submit("fal-ai/flux/dev", {}));
  assert.equal(seen.length, 1);
});

Deno.test("a submit answered 429 is retried (it was refused, not accepted)", async () => {
  const { fetch, seen } = scriptedFetch([
    json({ detail: "Too many requests" }, 429, { "retry-after": "0" }),
    json({ request_id: "req-2" }),
  ]);
  assert.equal((await client(fetch).submit("fal-ai/flux/dev", {})).request_id, "req-2");
  assert.equal(seen.length, 2);
});

Deno.test("fal validation errors become one readable line naming the fields", async () => {
  const { fetch } = scriptedFetch([
    json({
      detail: [
        { loc: ["body", "prompt"], msg: "field required", type: "value_error.missing" },
        { loc: ["body", "num_images"], msg: "must be <= 4", type: "value_error" },
      ],
    }, 422),
  ]);
  await assert.rejects(
    client(fetch).run("fal-ai/flux/dev", {}),
    /Cannot run fal-ai\/flux\/dev: fal answered 422: prompt: field required; num_images: must be <= 4/,
  );
});

Deno.test("without a key, calls that need one fail before anything is sent", async () => {
  const { fetch, seen } = scriptedFetch([]);
  await assert.rejects(client(fetch, null).submit("fal-ai/flux/dev", {}), MissingFalKeyError);
  assert.equal(seen.length, 0);
});

Deno.test("listing models works without a key and sends none", async () => {
  const { fetch, seen } = scriptedFetch([json({ models: [], next_cursor: null, has_more: false })]);
  const page = await client(fetch, null).listModels({
    q: "flux",
    limit: 5,
    expandOpenApi: true,
  });
  assert.deepEqual(page.models, []);
  assert.equal(seen[0]!.authorization, null);
  assert.equal(seen[0]!.url, "http://fal.test/api/v1/models?q=flux&limit=5&expand=openapi-3.0");
});

Deno.test("an unreachable fal is reported without the key", async () => {
  const failing = (() => Promise.reject(new TypeError("connection refused"))) as typeof fetch;
  await assert.rejects(client(failing).submit("fal-ai/flux/dev", {}), (error: unknown) => {
    assert.ok(error instanceof FalApiError);
    assert.match(error.message, /fal could not be reached \(connection refused\)/);
    assert.ok(!error.message.includes("very-secret-value"));
    return true;
  });
});

Deno.test("a request id that could escape the URL path is refused", async () => {
  const { fetch, seen } = scriptedFetch([]);
  await assert.rejects(
    client(fetch).result("fal-ai/flux/dev", "../../x"),
    /Invalid fal request id/,
  );
  assert.equal(seen.length, 0);
});
