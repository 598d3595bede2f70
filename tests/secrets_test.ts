/**
 * Secrets never leave the server: the fal key (`FAL_KEY`), the bearer tokens
 * (`FAL_MCP_AUTH_TOKENS`), and in bring-your-own-key mode (`--byok`) each client's own fal key
 * (`X-Fal-Key`), right or wrong.
 *
 * Everything the server says is captured: every log line at debug level, every HTTP response
 * (status, every header, body, SSE streams included), every tool result (successes, validation
 * errors, fal failures injected with `fake.injectFault(...)`, jobs failing with
 * `fake_fail: "model_error"`), `/metrics`, `/ready`, `/health`, and the stdout and stderr of the
 * real process over stdio. None of it may contain a secret, its secret half (after `:`), its
 * URL encoding, or its base64 (standard or URL-safe, at any byte alignment).
 *
 * The in-process servers log through a logger without redaction (the test helper's), so a
 * secret must not even reach the logger; the real process uses the production logger.
 *
 * @module
 */

import { tmpdir } from "node:os";
import assert from "node:assert/strict";
import type { FakeFal } from "./fake_fal/server.ts";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http_server.ts";
import { mainArgs } from "./helpers/process.ts";
import { initializeBody, modernRequest, POST_HEADERS, sessionHeaders } from "./helpers/raw_mcp.ts";
import { withFakeFal } from "./helpers/scenario.ts";

const FAL_KEY = "falkeyid-Q7ZK4W2m:falkeysecret-vN3xP8mR2tL6yB9cHq";
const TOKEN_A = "bearer-alpha-H4sK9dQ2wE7rT1yUo5";
const TOKEN_B = "bearer-bravo-J6mN3bV8cX5zL0pAg2";
const BYOK_KEY = "byokclientid-R2dF5gXa:byokclientsecret-W8hJ1kL4qZ7xVb";
const BYOK_WRONG = "byokwrongid-T3yU6iKe:byokwrongsecret-P9oI2uY5tR8eNm";

const SECRETS: Record<string, string> = {
  FAL_KEY,
  TOKEN_A,
  TOKEN_B,
  BYOK_KEY,
  BYOK_WRONG,
};

// ---------------------------------------------------------------------------------------------
// What counts as a leak
// ---------------------------------------------------------------------------------------------

const encoder = new TextEncoder();

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * The base64 of `secret` as it appears inside any longer base64 text: the characters that depend
 * only on the secret's bytes, for each of the three byte alignments (at least 20 characters).
 */
function base64Forms(secret: string): string[] {
  const bytes = encoder.encode(secret);
  const forms: string[] = [];
  for (const offset of [0, 1, 2]) {
    const padded = new Uint8Array(offset + bytes.length);
    padded.set(bytes, offset);
    const encoded = base64(padded);
    const start = [0, 2, 3][offset]!;
    const core = encoded.slice(start, encoded.length - 4);
    if (core.length >= 20) forms.push(core, core.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return forms;
}

/** Every form of every secret that must not appear, with its name. */
function needles(): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  for (const [name, secret] of Object.entries(SECRETS)) {
    const parts = [secret, ...secret.split(":").filter((p) => p.length >= 16)];
    for (const part of new Set(parts)) {
      out.push({ name, text: part }, {
        name: `${name} (URL-encoded)`,
        text: encodeURIComponent(part),
      });
      for (const form of base64Forms(part)) out.push({ name: `${name} (base64)`, text: form });
    }
  }
  return out;
}

/** Everything the server said, by where it came from. */
class Transcript {
  readonly #entries: { source: string; text: string }[] = [];

  /** Records text. */
  add(source: string, text: string): void {
    this.#entries.push({ source, text });
  }

  /** Records a response: status, every header, and the whole body; answers the body. */
  async response(source: string, response: Response): Promise<string> {
    const body = await response.text();
    const headers = [...response.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
    this.add(source, `${response.status}\n${headers}\n\n${body}`);
    return body;
  }

  /** How much was captured. */
  get size(): number {
    return this.#entries.reduce((n, e) => n + e.text.length, 0);
  }

  /** Whether any entry contains `text`. */
  includes(text: string): boolean {
    return this.#entries.some((e) => e.text.includes(text));
  }

  /** Asserts that no secret, in any form, appears anywhere. */
  assertNoSecrets(): void {
    const leaks: string[] = [];
    for (const needle of needles()) {
      for (const entry of this.#entries) {
        const at = entry.text.indexOf(needle.text);
        if (at < 0) continue;
        const context = entry.text.slice(Math.max(0, at - 120), at + needle.text.length + 60);
        leaks.push(`${needle.name} in ${entry.source}: …${context}…`);
      }
    }
    assert.deepEqual(leaks, [], `secrets leaked:\n${leaks.join("\n\n")}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Talking to an in-process server
// ---------------------------------------------------------------------------------------------

/** A caller of one server: its headers and the transcript to record into. */
interface Caller {
  url: string;
  headers: Record<string, string>;
  transcript: Transcript;
}

let nextId = 1;

/** A 2026-07-28 request; answers the JSON-RPC message that answers it. */
async function rpc(
  caller: Caller,
  method: string,
  params: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const id = nextId++;
  const { body, headers } = modernRequest(method, params, id);
  // Progress notifications are part of what the server says, so ask for them.
  if (method === "tools/call") {
    (body.params as { _meta: Record<string, unknown> })._meta.progressToken = `progress-${id}`;
  }
  const res = await fetch(`${caller.url}/mcp`, {
    method: "POST",
    headers: { ...headers, ...caller.headers },
    body: JSON.stringify(body),
  });
  const text = await caller.transcript.response(`${method} ${JSON.stringify(params)}`, res);
  return lastMessage(text, res.headers.get("content-type"));
}

function lastMessage(text: string, type: string | null): Record<string, unknown> {
  if (!type?.includes("text/event-stream")) return JSON.parse(text);
  const data = text.split("\n").filter((l) => l.startsWith("data: ") && l.length > 6);
  return JSON.parse(data.at(-1)!.slice(6));
}

interface ToolResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
}

/** Calls a tool (2026-07-28); answers its result (a JSON-RPC error is thrown). */
async function callTool(
  caller: Caller,
  name: string,
  args: Record<string, unknown>,
): Promise<ToolResult> {
  const message = await rpc(caller, "tools/call", { name, arguments: args });
  if (!message.result) throw new Error(`tools/call ${name}: ${JSON.stringify(message.error)}`);
  return message.result as ToolResult;
}

/** A raw request whose answer is recorded. */
async function raw(
  caller: Caller,
  source: string,
  path: string,
  init: RequestInit = {},
): Promise<Response & { text: string }> {
  const res = await fetch(`${caller.url}${path}`, init);
  const text = await caller.transcript.response(source, res);
  return Object.assign(res, { text });
}

/** Reads an SSE stream into the transcript until `done(text)` holds (at most `maxChunks`). */
async function readStream(
  reader: ReadableStreamDefaultReader<string>,
  transcript: Transcript,
  source: string,
  done: (text: string) => boolean,
  maxChunks = 10_000,
): Promise<string> {
  let text = "";
  for (let i = 0; i < maxChunks && !done(text); i++) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += chunk.value;
  }
  transcript.add(source, text);
  return text;
}

/** The tool calls every server gets: successes, bad inputs, failing jobs, injected fal faults. */
async function exerciseTools(caller: Caller, fake: FakeFal, tmpFile: string): Promise<void> {
  const ok = async (name: string, args: Record<string, unknown>) => {
    const result = await callTool(caller, name, args);
    assert.notEqual(result.isError, true, `${name}: ${JSON.stringify(result.content)}`);
    return result;
  };
  const failed = async (name: string, args: Record<string, unknown>) => {
    const result = await callTool(caller, name, args);
    assert.equal(result.isError, true, `${name} should fail: ${JSON.stringify(result.content)}`);
    return result;
  };

  await ok("search_models", { query: "flux" });
  await ok("get_model_schema", { endpoint_id: "fal-ai/flux/dev" });
  const run = await ok("run_model", {
    endpoint_id: "fal-ai/flux/dev",
    input: { prompt: "a red fox", fake_duration_ms: 0 },
    validate: false,
  });
  const submitted = await ok("submit_job", {
    endpoint_id: "fal-ai/flux/dev",
    input: { prompt: "a blue fox", fake_duration_ms: 0 },
    validate: false,
  });
  const jobId = String(submitted.structuredContent?.job_id ?? "");
  assert.ok(jobId, JSON.stringify(submitted));
  await ok("get_job", { job_id: jobId, wait_seconds: 5 });
  await callTool(caller, "cancel_job", { job_id: jobId });
  await ok("list_jobs", {});
  await ok("generate_image", { prompt: "a green fox" });
  await ok("upload_file", { path: tmpFile });
  await ok("estimate_cost", { endpoint_id: "fal-ai/flux/dev", quantity: 10 });
  await ok("get_pricing", { endpoint_ids: ["fal-ai/flux/dev"] });
  await ok("get_usage", { start: "2026-11-01", end: "2026-11-21" });

  // Jobs that fail at fal.
  await failed("run_model", {
    endpoint_id: "fal-ai/flux/dev",
    input: { prompt: "x", fake_duration_ms: 0, fake_fail: "model_error" },
    validate: false,
  });
  await failed("run_model", {
    endpoint_id: "fal-ai/flux/dev",
    input: { prompt: "x", fake_duration_ms: 0, fake_fail: "content_policy_violation" },
    validate: false,
  });
  await callTool(caller, "run_model", {
    endpoint_id: "fal-ai/no-such-model",
    input: { prompt: "x" },
  });

  // Invalid inputs (validation errors, from the SDK or the tool).
  await failed("run_model", { endpoint_id: 5 });
  await failed("run_model", {});
  await failed("get_model_schema", { endpoint_id: "fal-ai/no-such-model-at-all" });
  await failed("generate_image", { prompt: 5 });
  await failed("upload_file", { path: "/nonexistent/dir/photo.png" });
  await failed("get_job", { job_id: "no-such-job" });
  await failed("estimate_cost", { endpoint_id: "fal-ai/flux/dev", quantity: -1 });
  await failed("get_usage", { start: "not a date" });
  await rpc(caller, "tools/call", { name: "no_such_tool", arguments: {} });

  // fal failures, injected.
  fake.injectFault({ match: "submit", respond: 500 });
  await failed("run_model", { endpoint_id: "fal-ai/flux/dev", input: { prompt: "x" } });
  fake.injectFault({ match: "submit", respond: 429, retryAfter: 0, times: 10 });
  await failed("submit_job", { endpoint_id: "fal-ai/flux/dev", input: { prompt: "x" } });
  fake.clearFaults();
  fake.injectFault({ match: "pricing", respond: 429, retryAfter: 0, times: 10 });
  await failed("get_pricing", { endpoint_ids: ["fal-ai/flux/dev"] });
  fake.injectFault({ match: "usage", respond: 500, times: 10 });
  await failed("get_usage", { start: "2026-11-01" });
  fake.injectFault({ match: "upload", respond: 500, times: 10 });
  await failed("upload_file", { path: tmpFile });
  fake.injectFault({ match: "models", respond: 500, times: 10 });
  await callTool(caller, "search_models", { query: "upscale" });
  fake.clearFaults();
  fake.injectFault({ match: "status_stream", respond: "drop_stream", events: 1 });
  fake.injectFault({ match: "status", respond: 500, times: 1 });
  fake.injectFault({ match: "result", respond: 502, times: 1 });
  await callTool(caller, "run_model", {
    endpoint_id: "fal-ai/flux/dev",
    input: { prompt: "y", fake_duration_ms: 0 },
    validate: false,
  });
  fake.clearFaults();

  // Resources and prompts.
  await rpc(caller, "resources/list");
  await rpc(caller, "resources/read", { uri: `fal://jobs/${jobId}` });
  await rpc(caller, "resources/read", { uri: "fal://models/fal-ai/flux/dev/schema" });
  await rpc(caller, "resources/read", { uri: "fal://jobs/no-such-job" });
  await rpc(caller, "prompts/get", { name: "create_media", arguments: { request: "a fox" } });
  await rpc(caller, "tools/list");
  assert.ok(run.content.length > 0);
}

/** Requests that are refused: no token, wrong tokens (some built from real secrets), bad input. */
async function exerciseRefusals(caller: Caller, body: string): Promise<void> {
  const attempts: Record<string, string | undefined> = {
    "no token": undefined,
    "a wrong token": "Bearer wrong-token-0123456789abcdef",
    "token A plus a character": `Bearer ${TOKEN_A}x`,
    "token A minus a character": `Bearer ${TOKEN_A.slice(0, -1)}`,
    "the fal key as a bearer token": `Bearer ${FAL_KEY}`,
    "token A under the Key scheme": `Key ${TOKEN_A}`,
    "token A without a scheme": TOKEN_A,
    "token A twice": `Bearer ${TOKEN_A} ${TOKEN_A}`,
    "basic credentials of token B": `Basic ${btoa(`user:${TOKEN_B}`)}`,
  };
  for (const [name, authorization] of Object.entries(attempts)) {
    const headers: Record<string, string> = { ...POST_HEADERS, "x-fal-key": BYOK_WRONG };
    if (authorization) headers.authorization = authorization;
    for (const path of ["/mcp", "/sse", "/messages/?session_id=x"]) {
      await raw(caller, `${name} on ${path}`, path, {
        method: path === "/sse" ? "GET" : "POST",
        headers,
        body: path === "/sse" ? null : body,
      });
    }
  }
  // Bad input from an authenticated caller: the answers must not echo its credentials.
  const bad: Record<string, RequestInit> = {
    "malformed JSON": { method: "POST", headers: POST_HEADERS, body: '{"x":' },
    "wrong content type": {
      method: "POST",
      headers: { ...POST_HEADERS, "content-type": "text/plain" },
      body,
    },
    "foreign origin": {
      method: "POST",
      headers: { ...POST_HEADERS, origin: "https://evil.example" },
      body,
    },
    "unknown session": {
      method: "POST",
      headers: sessionHeaders("no-such-session"),
      body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    },
    "GET without a session": { method: "GET", headers: { accept: "text/event-stream" } },
    "PUT": { method: "PUT" },
  };
  for (const [name, init] of Object.entries(bad)) {
    const headers = { ...(init.headers as Record<string, string>), ...caller.headers };
    await raw(caller, name, "/mcp", { ...init, headers });
  }
  await raw(caller, "unknown path", "/nope", { headers: caller.headers });
}

/** A 2025 session and a legacy SSE session, each running a tool; everything recorded. */
async function exerciseSessions(caller: Caller): Promise<void> {
  const init = await fetch(`${caller.url}/mcp`, {
    method: "POST",
    headers: { ...POST_HEADERS, ...caller.headers },
    body: JSON.stringify(initializeBody()),
  });
  const sessionId = init.headers.get("mcp-session-id");
  await caller.transcript.response("2025 initialize", init);
  assert.ok(sessionId);
  const inSession = { ...sessionHeaders(sessionId), ...caller.headers };
  const call = {
    jsonrpc: "2.0",
    id: 2,
    method: "tools/call",
    params: {
      name: "run_model",
      arguments: {
        endpoint_id: "fal-ai/flux/dev",
        input: { prompt: "z", fake_fail: "model_error" },
        validate: false,
      },
    },
  };
  await raw(caller, "2025 session tools/call", "/mcp", {
    method: "POST",
    headers: inSession,
    body: JSON.stringify(call),
  });
  await raw(caller, "2025 session DELETE", "/mcp", { method: "DELETE", headers: inSession });

  const sse = await fetch(`${caller.url}/sse`, {
    headers: { ...caller.headers, accept: "text/event-stream" },
  });
  assert.equal(sse.status, 200);
  caller.transcript.add("legacy SSE headers", [...sse.headers].join("\n"));
  const reader = sse.body!.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const first = await readStream(
      reader,
      caller.transcript,
      "legacy SSE",
      (t) => t.includes("\n\n"),
    );
    const endpoint = /^data: (\S+)$/m.exec(first)?.[1];
    assert.ok(endpoint, first);
    const post = (message: unknown) =>
      raw(caller, "legacy SSE POST", endpoint, {
        method: "POST",
        headers: { ...POST_HEADERS, ...caller.headers },
        body: JSON.stringify(message),
      });
    await post(initializeBody("2024-11-05", 1));
    await post({ jsonrpc: "2.0", method: "notifications/initialized" });
    await post({ ...call, id: 3 });
    await post({
      jsonrpc: "2.0",
      id: 4,
      method: "tools/call",
      params: { name: "get_model_schema", arguments: { endpoint_id: "fal-ai/nope" } },
    });
    await readStream(
      reader,
      caller.transcript,
      "legacy SSE",
      (t) => t.includes('"id":3') && t.includes('"id":4'),
    );
  } finally {
    await reader.cancel();
  }
}

/** Records /health, /ready and /metrics. */
async function exerciseOps(caller: Caller): Promise<void> {
  for (const path of ["/health", "/ready", "/metrics"]) {
    const res = await raw(caller, path, path, { headers: caller.headers });
    assert.equal(res.status, 200, path);
  }
}

async function withTempFile<T>(fn: (path: string) => Promise<T>): Promise<T> {
  const path = await Deno.makeTempFile({ suffix: ".png" });
  try {
    await Deno.writeFile(path, new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    return await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

/** Temp files live in the system temp folder, which these servers share with their callers. */
const SERVER_ARGS = [
  "--log-level",
  "debug",
  "--rate-limit",
  "0",
  "--sync-wait",
  "5",
  "--allow-local-files",
  tmpdir(),
];

async function withServer(
  fake: FakeFal,
  env: Record<string, string>,
  args: string[],
  fn: (server: TestHttpServer, logLines: string[]) => Promise<void>,
): Promise<void> {
  const logLines: string[] = [];
  const outputDir = await Deno.makeTempDir();
  const server = await startTestHttpServer({
    env: { FAL_BASE_URL: fake.url, ...env },
    args: [...SERVER_ARGS, "--output-dir", outputDir, ...args],
    logLines,
  });
  try {
    await fn(server, logLines);
  } finally {
    await server.close();
    await Deno.remove(outputDir, { recursive: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

Deno.test("secrets: FAL_KEY and bearer tokens appear in no log line, response or tool result", async () => {
  await withTempFile(async (tmpFile) => {
    await withFakeFal(async (fake) => {
      const env = { FAL_KEY, FAL_MCP_AUTH_TOKENS: `${TOKEN_A},${TOKEN_B}` };
      await withServer(fake, env, [], async (server, logLines) => {
        const transcript = new Transcript();
        const a: Caller = {
          url: server.url,
          headers: { authorization: `Bearer ${TOKEN_A}` },
          transcript,
        };
        const b: Caller = { ...a, headers: { authorization: `Bearer ${TOKEN_B}` } };
        const body = JSON.stringify(initializeBody());
        await exerciseTools(a, fake, tmpFile);
        await exerciseSessions(b);
        await exerciseRefusals(a, body);
        await exerciseOps(a);
        await server.close();
        for (const [i, line] of logLines.entries()) transcript.add(`log line ${i}`, line);

        // The fal key was really used, and the transcript is not trivially empty.
        const keys = new Set([...fake.state.jobs.values()].map((j) => j.key));
        assert.deepEqual([...keys], [FAL_KEY]);
        assert.ok(logLines.some((l) => l.includes('"level":"debug"')), "debug lines captured");
        assert.ok(transcript.includes("model_error") || transcript.includes("Internal server"));
        assert.ok(transcript.size > 10_000);
        transcript.assertNoSecrets();
      });
    }, { keys: [FAL_KEY], jobDurationMs: 20, queueSteps: 1 });
  });
});

Deno.test("secrets: with --byok, each client's own fal key (right or wrong) appears nowhere", async () => {
  await withTempFile(async (tmpFile) => {
    await withFakeFal(async (fake) => {
      const env = { FAL_MCP_AUTH_TOKENS: `${TOKEN_A},${TOKEN_B}` };
      await withServer(fake, env, ["--byok"], async (server, logLines) => {
        const transcript = new Transcript();
        const own: Caller = {
          url: server.url,
          headers: { authorization: `Bearer ${TOKEN_A}`, "x-fal-key": BYOK_KEY },
          transcript,
        };
        await exerciseTools(own, fake, tmpFile);
        await exerciseSessions({
          ...own,
          headers: { ...own.headers, authorization: `Bearer ${TOKEN_B}` },
        });

        // A wrong key: fal refuses it, and the tool says so without repeating it.
        const wrong: Caller = { ...own, headers: { ...own.headers, "x-fal-key": BYOK_WRONG } };
        for (
          const [name, args] of [
            ["run_model", { endpoint_id: "fal-ai/flux/dev", input: { prompt: "x" } }],
            ["submit_job", { endpoint_id: "fal-ai/flux/dev", input: { prompt: "x" } }],
            ["upload_file", { path: tmpFile }],
            ["get_pricing", { endpoint_ids: ["fal-ai/flux/dev"] }],
            ["get_usage", { start: "2026-11-01" }],
            ["list_jobs", {}],
          ] as const
        ) {
          await callTool(wrong, name, args);
        }
        // No key at all.
        const none: Caller = { ...own, headers: { authorization: `Bearer ${TOKEN_A}` } };
        await callTool(none, "run_model", {
          endpoint_id: "fal-ai/flux/dev",
          input: { prompt: "x" },
        });
        // The key under fal's own scheme, while Authorization belongs to the bearer token: 401.
        await raw(own, "Authorization: Key with tokens on", "/mcp", {
          method: "POST",
          headers: { ...POST_HEADERS, authorization: `Key ${BYOK_KEY}` },
          body: JSON.stringify(initializeBody()),
        });
        // A session opened with one key is not found with another.
        const init = await fetch(`${server.url}/mcp`, {
          method: "POST",
          headers: { ...POST_HEADERS, ...own.headers },
          body: JSON.stringify(initializeBody()),
        });
        const sessionId = init.headers.get("mcp-session-id")!;
        await transcript.response("byok initialize", init);
        const other = await raw(wrong, "byok session with another key", "/mcp", {
          method: "POST",
          headers: { ...sessionHeaders(sessionId), ...wrong.headers },
          body: '{"jsonrpc":"2.0","id":9,"method":"tools/list"}',
        });
        assert.equal(other.status, 404);
        await exerciseRefusals(own, JSON.stringify(initializeBody()));
        await exerciseOps(own);
        await server.close();
        for (const [i, line] of logLines.entries()) transcript.add(`log line ${i}`, line);

        const keys = new Set([...fake.state.jobs.values()].map((j) => j.key));
        assert.deepEqual([...keys], [BYOK_KEY], "jobs ran under the client's own key only");
        assert.ok(transcript.includes("No user found") || transcript.includes("401"));
        transcript.assertNoSecrets();
      });
    }, { keys: [BYOK_KEY], jobDurationMs: 20, queueSteps: 1 });
  });
});

Deno.test("secrets: the real process over stdio writes no secret to stdout or stderr", async () => {
  await withFakeFal(async (fake) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: mainArgs("--log-level", "debug", "--sync-wait", "5"),
      env: {
        NO_COLOR: "1",
        FAL_MCP_JOB_STORE: "memory",
        FAL_KEY,
        FAL_BASE_URL: fake.url,
        FAL_MCP_AUTH_TOKENS: `${TOKEN_A},${TOKEN_B}`,
        HOME: Deno.env.get("HOME") ?? "/tmp",
      },
      clearEnv: true,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const writer = child.stdin.getWriter();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let stdout = "";
    const answered = (id: unknown) =>
      stdout.split("\n").some((line) => {
        try {
          const m = JSON.parse(line);
          return m.id === id && !("method" in m);
        } catch {
          return false;
        }
      });
    /** Sends one message; for a request, reads stdout until its response (bounded). */
    const send = async (message: Record<string, unknown>) => {
      await writer.write(encoder.encode(JSON.stringify(message) + "\n"));
      if (!("id" in message)) return;
      for (let i = 0; i < 10_000 && !answered(message.id); i++) {
        const chunk = await lines.read();
        if (chunk.done) throw new Error(`stdout ended before id ${message.id}:\n${stdout}`);
        stdout += chunk.value;
      }
    };
    const call = (id: number, name: string, args: Record<string, unknown>) =>
      send({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
    try {
      await send(initializeBody("2025-06-18", 1));
      await send({ jsonrpc: "2.0", method: "notifications/initialized" });
      await send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
      await call(3, "search_models", { query: "flux" });
      await call(4, "run_model", { endpoint_id: "fal-ai/flux/dev", input: { prompt: "a fox" } });
      await call(5, "run_model", {
        endpoint_id: "fal-ai/flux/dev",
        input: { prompt: "a fox", fake_fail: "model_error" },
        validate: false,
      });
      await call(6, "run_model", { endpoint_id: 42 });
      await call(7, "get_model_schema", { endpoint_id: "fal-ai/no-such-model-at-all" });
      fake.injectFault({ match: "submit", respond: 500 });
      await call(8, "run_model", { endpoint_id: "fal-ai/flux/dev", input: { prompt: "x" } });
      fake.injectFault({ match: "pricing", respond: 429, retryAfter: 0, times: 10 });
      await call(9, "get_pricing", { endpoint_ids: ["fal-ai/flux/dev"] });
      await call(10, "upload_file", { path: "/nonexistent/file.png" });
      await send({
        jsonrpc: "2.0",
        id: 11,
        method: "resources/read",
        params: { uri: "fal://jobs/x" },
      });
      await send({ jsonrpc: "2.0", id: 12, method: "no/such/method" });
      await writer.write(encoder.encode('{"jsonrpc":"2.0","id":13,"method":\n'));
    } finally {
      await writer.close();
    }
    for (let i = 0; i < 100_000; i++) {
      const chunk = await lines.read();
      if (chunk.done) break;
      stdout += chunk.value;
    }
    const status = await child.status;
    assert.equal(status.code, 0);
    const transcript = new Transcript();
    transcript.add("stdout", stdout);
    transcript.add("stderr", await stderr);
    assert.ok(answered(12), "every request was answered");
    assert.ok((await stderr).includes('"level":"debug"'), "debug lines were written");
    assert.deepEqual(new Set([...fake.state.jobs.values()].map((j) => j.key)), new Set([FAL_KEY]));
    transcript.assertNoSecrets();
  }, { keys: [FAL_KEY], jobDurationMs: 20, queueSteps: 1 });
});
