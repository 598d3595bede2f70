/**
 * Property-based fuzzing of JSON-RPC frames against the real HTTP server (fast-check).
 *
 * Arbitrary frames (requests, notifications, responses, batches, and mangled ones) with methods
 * from a list of real MCP methods plus junk, and params with deep nesting, unicode (lone
 * surrogates included), huge and non-finite numbers and nulls, are sent four ways:
 *
 * 1. as 2026-07-28 requests (`_meta` envelope and `Mcp-Method`/`Mcp-Name` headers, sometimes
 *    wrong or missing),
 * 2. as session-less 2025 requests,
 * 3. into a live 2025 session,
 * 4. to `/messages/` of a live legacy SSE session (whose stream is read too).
 *
 * Properties: no answer is 5xx; every answer is valid JSON-RPC (a JSON body or an SSE stream of
 * JSON-RPC messages) or an empty 202; a request answered 200 gets a response with its id; and
 * the server keeps serving (`/health` and a valid `tools/list` after each property).
 *
 * Bounded and reproducible: each property runs {@linkcode NUM_RUNS} (150) cases from a fixed
 * seed ({@linkcode SEED} plus the property's index). Set `FAL_MCP_FUZZ_SEED=<integer>` to explore other inputs (a failure
 * prints the seed and path to replay it). Tool calls go to the fake fal (`falEnv(fake)`), whose
 * jobs take 20 ms here; generated `run_model`/`submit_job` inputs also carry
 * `fake_duration_ms: 0`.
 *
 * @module
 */

import fc from "fast-check";
import assert from "node:assert/strict";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http_server.ts";
import {
  MODERN,
  modernMeta,
  modernRequest,
  openSession,
  post,
  POST_HEADERS,
  readMessage,
  sessionHeaders,
} from "./helpers/raw_mcp.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";

/** Seed of every property (fixed, so a run is reproducible); override with FAL_MCP_FUZZ_SEED. */
const SEED = Number(Deno.env.get("FAL_MCP_FUZZ_SEED") ?? 20260728);
/** Cases per property. */
const NUM_RUNS = 150;
/** Options of the `n`th property: its own seed, derived from {@linkcode SEED}. */
const fcOptions = (n: number) => ({ numRuns: NUM_RUNS, seed: SEED + n, endOnFailure: true });

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------

const REAL_METHODS = [
  "initialize",
  "ping",
  "server/discover",
  "tools/list",
  "tools/call",
  "resources/list",
  "resources/read",
  "resources/templates/list",
  "resources/subscribe",
  "resources/unsubscribe",
  "prompts/list",
  "prompts/get",
  "completion/complete",
  "logging/setLevel",
  "tasks/get",
  "tasks/list",
  "tasks/result",
  "tasks/cancel",
  "notifications/initialized",
  "notifications/cancelled",
  "notifications/progress",
  "notifications/roots/list_changed",
  "notifications/message",
  "sampling/createMessage",
  "elicitation/create",
  "roots/list",
] as const;

/** Tools that answer at once (no fal job, or a quick fal read from the fake). */
const CHEAP_TOOLS = [
  "list_jobs",
  "get_job",
  "cancel_job",
  "search_models",
  "get_model_schema",
  "get_pricing",
  "estimate_cost",
  "get_usage",
] as const;
/** Tools that start fal jobs (quick ones against the fake). */
const GENERATING_TOOLS = [
  "run_model",
  "submit_job",
  "generate_image",
  "edit_image",
  "remove_background",
  "upscale_image",
  "generate_video",
  "generate_music",
  "text_to_speech",
  "transcribe_audio",
  "upload_file",
] as const;

/** Strings a parser may trip on. */
const NASTY_STRINGS = [
  "",
  " ",
  "\u0000",
  "\uD800",
  "\uDFFF",
  "\uFEFF",
  "\u202E",
  "e\u0301",
  "😀",
  "👩‍👩‍👧",
  "\r\n",
  "../../../../etc/passwd",
  "fal-ai/flux/dev",
  "fal://jobs/x",
  "%00",
  "null",
  "__proto__",
  "x".repeat(10_000),
] as const;

/** Placeholders swapped for raw JSON text the serializer cannot produce (see render()). */
const BIG = "\u0001BIG\u0001";
const DEEP = "\u0001DEEP\u0001";
const RAW_NUMBERS = ["1e400", "-1e400", "123456789012345678901234567890", "-0", "1E-400", "0.0e0"];

const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "binary", maxLength: 24 }) },
  { weight: 2, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 12 }) },
);

const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    Number.MAX_SAFE_INTEGER + 2,
    -(2 ** 63),
    1e308,
    -1e308,
    5e-324,
    -0,
    2 ** 53,
  ),
  fc.constant(BIG),
  fc.constant(DEEP),
  text,
);

const key = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 10 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "__proto__",
      "constructor",
      "prototype",
      "toString",
      "_meta",
      "name",
      "arguments",
      "uri",
      "cursor",
      "task",
      "progressToken",
      "endpoint_id",
      "input",
      "job_id",
      "query",
      "prompt",
    ),
  },
);

/** Any JSON-ish value, a few levels deep. */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    scalar,
    fc.array(tie("node"), { maxLength: 4 }),
    fc.dictionary(key, tie("node"), { maxKeys: 5 }),
  ),
})).node;

const id = fc.oneof(
  { weight: 12, arbitrary: fc.integer() },
  { weight: 5, arbitrary: fc.string({ unit: "binary", maxLength: 16 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(null, 1.5, 2 ** 60, -1, 0, true, {}, [], "", BIG),
  },
);

const method = fc.oneof(
  { weight: 8, arbitrary: fc.constant("tools/call") },
  { weight: 2, arbitrary: fc.constantFrom("tools/list", "resources/read", "prompts/get") },
  { weight: 10, arbitrary: fc.constantFrom(...REAL_METHODS) },
  { weight: 1, arbitrary: text },
  {
    weight: 1,
    arbitrary: fc.constantFrom("tools/", "/", "rpc.discover", "TOOLS/LIST", "tools/list\u0000"),
  },
);

const quickInput = fc.record({
  prompt: text,
  fake_duration_ms: fc.constant(0),
  seed: fc.integer({ min: 0, max: 1000 }),
}, { requiredKeys: ["fake_duration_ms"] });

/** `table[name]` when it is the table's own entry (names like `__proto__` are not). */
function ownArbitrary(
  table: Record<string, fc.Arbitrary<unknown>>,
  name: string,
): fc.Arbitrary<unknown> | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** Arguments of a tool: a plausible shape for the tool, or anything at all. */
function argumentsFor(name: string): fc.Arbitrary<unknown> {
  const plausible: Record<string, fc.Arbitrary<unknown>> = {
    list_jobs: fc.record({ status: text, endpoint_id: text, cursor: text }, {
      requiredKeys: [],
    }),
    get_job: fc.record({ job_id: text }),
    cancel_job: fc.record({ job_id: text }),
    search_models: fc.record({ query: text, category: text, limit: fc.integer() }, {
      requiredKeys: ["query"],
    }),
    get_model_schema: fc.record({
      endpoint_id: fc.oneof(fc.constant("fal-ai/flux/dev"), text),
    }),
    get_pricing: fc.record({ endpoint_ids: fc.array(text, { maxLength: 3 }) }),
    estimate_cost: fc.record({ endpoint_id: text, quantity: scalar }),
    get_usage: fc.record({ start: text, end: text }),
    run_model: fc.record({
      endpoint_id: fc.oneof(fc.constant("fal-ai/flux/dev"), text),
      input: fc.oneof(quickInput, value),
      validate: fc.boolean(),
    }),
    submit_job: fc.record({
      endpoint_id: fc.constant("fal-ai/flux/dev"),
      input: quickInput,
      validate: fc.boolean(),
    }),
    generate_image: fc.record({ prompt: text, count: scalar }, { requiredKeys: ["prompt"] }),
  };
  return fc.oneof(
    {
      weight: 5,
      arbitrary: ownArbitrary(plausible, name) ?? fc.dictionary(key, value, { maxKeys: 3 }),
    },
    { weight: 1, arbitrary: value },
  );
}

const toolName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...CHEAP_TOOLS) },
  { weight: 2, arbitrary: fc.constant("run_model") },
  { weight: 2, arbitrary: fc.constantFrom(...GENERATING_TOOLS) },
  { weight: 1, arbitrary: text },
);

const toolCallParams = toolName.chain((name) =>
  fc.record({
    name: fc.constant<unknown>(name),
    arguments: argumentsFor(name),
    _meta: fc.option(fc.record({ progressToken: fc.oneof(fc.integer(), text) }), {
      nil: undefined,
    }),
    task: fc.option(fc.record({ ttl: fc.integer({ min: 0, max: 60_000 }) }), { nil: undefined }),
  }, { requiredKeys: ["name"] })
);

/** Params for a method: plausible ones for the real methods, or anything. */
function paramsFor(name: unknown): fc.Arbitrary<unknown> {
  const plausible: Record<string, fc.Arbitrary<unknown>> = {
    "tools/call": toolCallParams,
    "resources/read": fc.record({
      uri: fc.oneof(
        fc.constantFrom("fal://jobs/nope", "fal://models/fal-ai/flux/dev/schema", "fal://x"),
        text,
      ),
    }),
    "prompts/get": fc.record({
      name: fc.oneof(fc.constant("create_media"), text),
      arguments: fc.dictionary(key, text, { maxKeys: 3 }),
    }),
    "tasks/get": fc.record({ taskId: text }),
    "tasks/result": fc.record({ taskId: text }),
    "tasks/cancel": fc.record({ taskId: text }),
    "notifications/cancelled": fc.record({ requestId: id, reason: text }),
    "notifications/progress": fc.record({ progressToken: id, progress: scalar }),
    "logging/setLevel": fc.record({ level: fc.oneof(fc.constantFrom("debug", "error"), text) }),
    "completion/complete": fc.record({ ref: value, argument: value }),
  };
  return fc.oneof(
    {
      weight: 8,
      arbitrary: ownArbitrary(plausible, String(name)) ?? fc.dictionary(key, value, { maxKeys: 4 }),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: value },
  );
}

type Frame = Record<string, unknown>;

/** Drops keys whose value is undefined, and any `wait_seconds` (a get_job could wait 60 s). */
function clean(frame: Frame): Frame {
  const out: Frame = {};
  for (const [k, v] of Object.entries(frame)) if (v !== undefined) out[k] = v;
  const args = (out.params as { arguments?: Record<string, unknown> } | undefined)?.arguments;
  if (args && typeof args === "object" && "wait_seconds" in args) delete args.wait_seconds;
  return out;
}

const request = method.chain((m) =>
  fc.record({ jsonrpc: fc.constant("2.0"), id, method: fc.constant(m), params: paramsFor(m) })
).map(clean);

const notification = method.chain((m) =>
  fc.record({ jsonrpc: fc.constant("2.0"), method: fc.constant(m), params: paramsFor(m) })
).map(clean);

const response = fc.oneof(
  fc.record({ jsonrpc: fc.constant("2.0"), id, result: value }),
  fc.record({
    jsonrpc: fc.constant("2.0"),
    id,
    error: fc.record({ code: fc.integer(), message: text, data: value }, {
      requiredKeys: ["code", "message"],
    }),
  }),
);

/** A frame with one member broken. */
const mangled = fc.tuple(request, fc.integer({ min: 0, max: 6 }), value).map(([frame, how, v]) => {
  const out: Frame = { ...frame };
  switch (how) {
    case 0:
      out.jsonrpc = "1.0";
      break;
    case 1:
      delete out.jsonrpc;
      break;
    case 2:
      out.method = v;
      break;
    case 3:
      out.params = v;
      break;
    case 4:
      out.result = v;
      break;
    case 5:
      out.jsonrpc = 2;
      break;
    default:
      out.error = v;
  }
  return out;
});

const single = fc.oneof(
  { weight: 12, arbitrary: request },
  { weight: 2, arbitrary: notification },
  { weight: 1, arbitrary: response },
  { weight: 1, arbitrary: mangled },
);

/** A message or a batch of them (batches are 2025-03-26 only; everyone else must refuse them). */
const frame: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 12, arbitrary: single },
  { weight: 1, arbitrary: fc.array(single, { minLength: 0, maxLength: 4 }) },
);

/** Serialises a frame, swapping placeholders for huge numbers and deeply nested values. */
function render(message: unknown, depth: number, big: string): string {
  const json = JSON.stringify(message) ?? "null";
  const nested = '{"a":['.repeat(depth) + "1" + "]}".repeat(depth);
  return json
    .replaceAll(JSON.stringify(BIG), big)
    .replaceAll(JSON.stringify(DEEP), nested);
}

const rendering = fc.record({
  depth: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1000, max: 10_000 })),
  big: fc.constantFrom(...RAW_NUMBERS),
});

// ---------------------------------------------------------------------------------------------
// Checking answers
// ---------------------------------------------------------------------------------------------

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isJsonRpcId(v: unknown): boolean {
  return typeof v === "string" || typeof v === "number";
}

/** Whether `m` is one valid JSON-RPC 2.0 message as a server may send it. */
function jsonRpcProblem(m: unknown): string | undefined {
  if (!isObject(m)) return "not an object";
  if (m.jsonrpc !== "2.0") return 'jsonrpc is not "2.0"';
  if ("method" in m) {
    if (typeof m.method !== "string") return "method is not a string";
    if ("id" in m && !isJsonRpcId(m.id)) return "a server request with a bad id";
    return undefined;
  }
  if ("result" in m) {
    if ("error" in m) return "both result and error";
    return isJsonRpcId(m.id) ? undefined : "a result without a valid id";
  }
  if ("error" in m) {
    const error = m.error;
    if (!isObject(error)) return "error is not an object";
    if (!Number.isInteger(error.code)) return "error.code is not an integer";
    if (typeof error.message !== "string") return "error.message is not a string";
    return m.id === null || isJsonRpcId(m.id) ? undefined : "an error with a bad id";
  }
  return "neither a request, a notification, a result nor an error";
}

/** JSON-RPC messages in an SSE body (priming events with empty data skipped). */
function sseMessages(body: string): unknown[] {
  const out: unknown[] = [];
  for (const event of body.split(/\r?\n\r?\n/)) {
    const data = event.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) =>
      l.slice(5).replace(/^ /, "")
    );
    if (data.length === 0 || data.join("") === "") continue;
    out.push(JSON.parse(data.join("\n")));
  }
  return out;
}

/** Ids of the requests in a frame that must be answered (valid, unique ids only). */
function requestIds(sent: unknown): unknown[] | undefined {
  const messages = Array.isArray(sent) ? sent : [sent];
  const ids = messages
    .filter((m) => isObject(m) && typeof m.method === "string" && m.jsonrpc === "2.0" && "id" in m)
    .map((m) => (m as Frame).id);
  // A placeholder id becomes some raw number on the wire: which one is render()'s business.
  const valid = ids.filter((i) =>
    (typeof i === "string" && !i.includes("\u0001")) ||
    (typeof i === "number" && Number.isSafeInteger(i))
  );
  if (valid.length !== ids.length || new Set(valid).size !== valid.length) return undefined;
  return valid;
}

/**
 * Asserts one answer: not 5xx; an empty 202, or JSON-RPC (JSON or SSE); a 200 answering a
 * request carries a response with its id. `accepted` lists the 202 bodies allowed.
 */
async function assertAnswer(
  res: Response,
  sent: unknown,
  body: string,
  accepted: readonly string[] = [""],
): Promise<void> {
  const text = await res.text();
  const where = `answered ${res.status} ${text.slice(0, 400)}\nto ${body.slice(0, 600)}`;
  assert.ok(res.status < 500, `5xx: ${where}`);
  if (res.status === 202) {
    assert.ok(accepted.includes(text), `a 202 with a body: ${where}`);
    return;
  }
  const type = res.headers.get("content-type") ?? "";
  let messages: unknown[];
  if (type.includes("text/event-stream")) {
    messages = sseMessages(text);
  } else {
    assert.match(type, /application\/json/, `not JSON-RPC: ${where}`);
    const parsed = JSON.parse(text);
    messages = Array.isArray(parsed) ? parsed : [parsed];
  }
  assert.ok(messages.length > 0, `no message: ${where}`);
  for (const m of messages) {
    const problem = jsonRpcProblem(m);
    assert.equal(problem, undefined, `${problem}: ${JSON.stringify(m).slice(0, 300)}\n${where}`);
  }
  if (res.status === 200) {
    const answered = new Set(
      messages.filter((m) => isObject(m) && !("method" in m)).map((m) => (m as Frame).id),
    );
    for (const wanted of requestIds(sent) ?? []) {
      assert.ok(answered.has(wanted), `no response for id ${JSON.stringify(wanted)}: ${where}`);
    }
  }
}

async function assertStillServing(server: TestHttpServer): Promise<void> {
  const health = await fetch(`${server.url}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: "ok" });
  const { body, headers } = modernRequest("tools/list", {}, "after-fuzz");
  const list = await readMessage(await post(`${server.url}/mcp`, body, headers)) as {
    id: string;
    result: { tools: { name: string }[] };
  };
  assert.equal(list.id, "after-fuzz");
  assert.ok(list.result.tools.some((t) => t.name === "run_model"));
}

/** Header values fetch can send (printable ASCII); others are left out. */
function headerSafe(value: unknown): value is string {
  return typeof value === "string" && /^[\x20-\x7e]*$/.test(value);
}

// ---------------------------------------------------------------------------------------------
// The 2026-07-28 envelope, right or wrong
// ---------------------------------------------------------------------------------------------

const ENVELOPES = [
  ...Array<"right">(10).fill("right"),
  "wrong-version",
  "no-client-info",
  "no-capabilities",
  "meta-not-object",
  "none",
] as const;
const HEADER_MODES = [
  ...Array<"agree">(10).fill("agree"),
  "method-differs",
  "no-method",
  "no-name",
  "version-differs",
  "no-version",
] as const;

const modernShape = fc.record({
  envelope: fc.constantFrom(...ENVELOPES),
  headers: fc.constantFrom(...HEADER_MODES),
  otherVersion: fc.constantFrom("2025-06-18", "2099-01-01", "garbage", ""),
});

/** Adds the `_meta` envelope (as `shape` says) to every message of a frame; answers headers. */
function modernize(
  sent: unknown,
  shape: { envelope: string; headers: string; otherVersion: string },
): { message: unknown; headers: Record<string, string> } {
  const envelope = (): unknown => {
    const meta: Record<string, unknown> = modernMeta();
    switch (shape.envelope) {
      case "wrong-version":
        meta["io.modelcontextprotocol/protocolVersion"] = shape.otherVersion;
        return meta;
      case "no-client-info":
        delete meta["io.modelcontextprotocol/clientInfo"];
        return meta;
      case "no-capabilities":
        delete meta["io.modelcontextprotocol/clientCapabilities"];
        return meta;
      case "meta-not-object":
        return shape.otherVersion;
      default:
        return meta;
    }
  };
  const wrap = (m: unknown): unknown => {
    if (!isObject(m) || shape.envelope === "none") return m;
    const params = m.params === undefined ? {} : m.params;
    if (!isObject(params)) return m;
    const own = isObject(params._meta) ? params._meta : {};
    const meta = envelope();
    return { ...m, params: { ...params, _meta: isObject(meta) ? { ...own, ...meta } : meta } };
  };
  const message = Array.isArray(sent) ? sent.map(wrap) : wrap(sent);
  const first = (Array.isArray(sent) ? sent[0] : sent) as Frame | undefined;
  const headers: Record<string, string> = { ...POST_HEADERS, "mcp-protocol-version": MODERN };
  const rpcMethod = first?.method;
  if (headerSafe(rpcMethod)) headers["mcp-method"] = rpcMethod;
  const params = isObject(first?.params) ? first.params : {};
  const name = rpcMethod === "resources/read" ? params.uri : params.name;
  if (headerSafe(name)) headers["mcp-name"] = name;
  switch (shape.headers) {
    case "method-differs":
      headers["mcp-method"] = rpcMethod === "tools/list" ? "prompts/list" : "tools/list";
      break;
    case "no-method":
      delete headers["mcp-method"];
      break;
    case "no-name":
      delete headers["mcp-name"];
      break;
    case "version-differs":
      headers["mcp-protocol-version"] = shape.otherVersion;
      break;
    case "no-version":
      delete headers["mcp-protocol-version"];
      break;
  }
  if (headers["mcp-protocol-version"] === "") delete headers["mcp-protocol-version"];
  return { message, headers };
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

/** Runs `fn` against a server backed by the fake fal, with state and output in a temp dir. */
async function withFuzzServer(fn: (server: TestHttpServer) => Promise<void>): Promise<void> {
  const outputDir = await Deno.makeTempDir({ prefix: "fal-mcp-fuzz-" });
  try {
    await withFakeFal(async (fake) => {
      const server = await startTestHttpServer({
        env: falEnv(fake),
        args: [
          "--rate-limit",
          "0",
          "--sync-wait",
          "1",
          "--shutdown-timeout",
          "0",
          "--output-dir",
          outputDir,
          "--max-sessions",
          "5000",
        ],
      });
      try {
        await fn(server);
        await assertStillServing(server);
      } finally {
        await server.close();
      }
    }, { jobDurationMs: 20, queueSteps: 1 });
  } finally {
    await Deno.remove(outputDir, { recursive: true });
  }
}

Deno.test("fuzz: 2026-07-28 frames (envelope and headers sometimes wrong) never get a 5xx or a non-JSON-RPC answer", async () => {
  await withFuzzServer(async (server) => {
    await fc.assert(
      fc.asyncProperty(frame, modernShape, rendering, async (sent, shape, how) => {
        const { message, headers } = modernize(sent, shape);
        const body = render(message, how.depth, how.big);
        const res = await fetch(`${server.url}/mcp`, { method: "POST", headers, body });
        await assertAnswer(res, message, body);
      }),
      fcOptions(0),
    );
  });
});

Deno.test("fuzz: session-less 2025 frames never get a 5xx or a non-JSON-RPC answer", async () => {
  await withFuzzServer(async (server) => {
    const versions = fc.constantFrom("2025-03-26", "2025-06-18", "2025-11-25", undefined);
    await fc.assert(
      fc.asyncProperty(frame, versions, rendering, async (sent, version, how) => {
        const headers: Record<string, string> = { ...POST_HEADERS };
        if (version) headers["mcp-protocol-version"] = version;
        const body = render(sent, how.depth, how.big);
        const res = await fetch(`${server.url}/mcp`, { method: "POST", headers, body });
        await assertAnswer(res, sent, body);
      }),
      fcOptions(1),
    );
  });
});

Deno.test("fuzz: frames sent into a live 2025 session never get a 5xx, and the session survives", async () => {
  await withFuzzServer(async (server) => {
    const mcp = `${server.url}/mcp`;
    const sessions = await Promise.all([openSession(mcp, "2025-03-26"), openSession(mcp)]);
    await fc.assert(
      fc.asyncProperty(frame, fc.nat(1), rendering, async (sent, which, how) => {
        const version = which === 0 ? "2025-03-26" : "2025-06-18";
        const body = render(sent, how.depth, how.big);
        const res = await fetch(mcp, {
          method: "POST",
          headers: sessionHeaders(sessions[which]!, version),
          body,
        });
        await assertAnswer(res, sent, body);
      }),
      fcOptions(2),
    );
    for (const [i, session] of sessions.entries()) {
      const version = i === 0 ? "2025-03-26" : "2025-06-18";
      const res = await post(
        mcp,
        { jsonrpc: "2.0", id: "alive", method: "tools/list" },
        sessionHeaders(session, version),
      );
      assert.equal(res.status, 200, `session ${i} survived`);
      const list = await readMessage(res) as { id: string; result: { tools: unknown[] } };
      assert.equal(list.id, "alive");
    }
  });
});

Deno.test("fuzz: frames posted to a live legacy SSE session get 202 or a JSON-RPC error; the stream stays JSON-RPC", async () => {
  await withFuzzServer(async (server) => {
    const stream = await fetch(`${server.url}/sse`, { headers: { accept: "text/event-stream" } });
    assert.equal(stream.status, 200);
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let received = "";
    /** Reads the stream until `done(received)` holds (at most `maxChunks` reads). */
    const readUntil = async (done: (text: string) => boolean, maxChunks = 100_000) => {
      for (let i = 0; i < maxChunks && !done(received); i++) {
        const chunk = await reader.read();
        if (chunk.done) break;
        received += chunk.value;
      }
    };
    try {
      await readUntil((text) => text.includes("\n\n"));
      const endpoint = /^data: (\/messages\/\?session_id=\S+)$/m.exec(received)?.[1];
      assert.ok(endpoint, `no endpoint event in ${received.slice(0, 200)}`);
      const url = `${server.url}${endpoint}`;
      await fc.assert(
        fc.asyncProperty(frame, rendering, async (sent, how) => {
          const body = render(sent, how.depth, how.big);
          const res = await fetch(url, { method: "POST", headers: POST_HEADERS, body });
          await assertAnswer(res, sent, body, ["", "Accepted"]);
        }),
        fcOptions(3),
      );
      // The session still answers: a ping's response arrives on the stream.
      const ping = await post(url, { jsonrpc: "2.0", id: "still-here", method: "ping" });
      assert.equal(ping.status, 202);
      await ping.body?.cancel();
      // Everything the fuzzed frames caused comes first, then the ping's answer.
      await readUntil((text) => text.includes('"id":"still-here"'));
      assert.ok(received.includes('"id":"still-here"'), "the ping was answered on the stream");
      const events = received.split(/\n\n/).filter((e) => /^event: message$/m.test(e));
      for (const event of events) {
        const data = event.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6))
          .join("\n");
        const problem = jsonRpcProblem(JSON.parse(data));
        assert.equal(problem, undefined, `${problem} on the SSE stream: ${data.slice(0, 300)}`);
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  });
});
