/**
 * Bad input on every HTTP endpoint, as one table: each row is a request (endpoint × bad input)
 * and the status it must get, plus the JSON-RPC error code when the body is JSON-RPC. The
 * statuses follow the MCP transport rules (the reference SDKs where the spec is silent) and
 * RFC 9110 for Host; rows where today's answer is only arguably right carry a `note` saying why.
 *
 * Two servers answer the table: an open one and one requiring bearer tokens
 * (`FAL_MCP_AUTH_TOKENS`). Both cap bodies at 64 KiB (`--max-body-bytes`) and have rate
 * limiting off, so only the row's own input decides the answer. After the table the servers
 * must still serve a valid `tools/list` and `/health`, and no row may have been answered 5xx.
 *
 * @module
 */

import assert from "node:assert/strict";
import { startTestHttpServer, type TestHttpServer } from "./helpers/http_server.ts";
import {
  initializeBody,
  MODERN,
  modernRequest,
  openSession,
  post,
  POST_HEADERS,
  readMessage,
  sessionHeaders,
} from "./helpers/raw_mcp.ts";

const MAX_BODY = 64 * 1024;
const LIMITS = ["--max-body-bytes", String(MAX_BODY), "--rate-limit", "0"];
const TOKEN_A = "matrix-token-a-0123456789abcdef";
const TOKEN_B = "matrix-token-b-fedcba9876543210";
const EVIL = "https://evil.example";

/** What the rows may refer to: the server and the live sessions opened before the table. */
interface Ctx {
  /** Origin of the server. */
  url: string;
  /** A live 2025-06-18 session on /mcp (opened with TOKEN_A on the token server). */
  session: string;
  /** Path and query of a live legacy SSE session (`/messages/?session_id=…`). */
  messages: string;
  /** Headers that authenticate on this server (none on the open server). */
  auth: Record<string, string>;
}

type Lazy<T> = T | ((ctx: Ctx) => T);
type HeaderSpec = Record<string, string | undefined>;

/** One request of the table and what it must get. */
interface Row {
  /** The bad input. */
  name: string;
  /** HTTP method. */
  method: string;
  /** Path (and query). */
  path: Lazy<string>;
  /**
   * Headers, merged over the defaults (`POST_HEADERS` for POST, nothing else otherwise, plus
   * the server's auth); a value of `undefined` removes a default.
   */
  headers?: Lazy<HeaderSpec>;
  /** Body, sent as is. */
  body?: Lazy<string | Uint8Array<ArrayBuffer> | (() => ReadableStream<Uint8Array>)>;
  /** Sent over a raw socket with this literal Host header (fetch cannot set Host). */
  rawHost?: string;
  /** Send no default headers and no auth (the row gives every header itself). */
  bare?: boolean;
  /** Expected HTTP status (any of a list). */
  expect: number | readonly number[];
  /** Expected JSON-RPC error code of the body. */
  code?: number;
  /** Expected `Allow` header. */
  allow?: string;
  /** Expected `WWW-Authenticate` header. */
  challenge?: RegExp;
  /** Whether the body must be a JSON-RPC error (default: when the status is 4xx or 5xx). */
  jsonRpc?: boolean;
  /** Extra checks on the answer. */
  check?: (answer: Answer) => void;
  /** Why today's answer is only arguably right (also in the step name). */
  note?: string;
}

/** What a row got. */
interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

// ---------------------------------------------------------------------------------------------
// Sending a row
// ---------------------------------------------------------------------------------------------

function resolve<T>(value: Lazy<T> | undefined, ctx: Ctx): T | undefined {
  return typeof value === "function" ? (value as (ctx: Ctx) => T)(ctx) : value;
}

function headersFor(row: Row, ctx: Ctx): Record<string, string> {
  const base: HeaderSpec = row.bare
    ? {}
    : { ...(row.method === "POST" ? POST_HEADERS : {}), ...ctx.auth };
  const merged: HeaderSpec = { ...base, ...resolve(row.headers, ctx) };
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(merged)) if (value !== undefined) out[key] = value;
  return out;
}

async function readAnswer(response: Response, method: string): Promise<Answer> {
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("text/event-stream") && method === "GET" && response.body) {
    // A stream that stays open: its first chunk is enough.
    const reader = response.body.getReader();
    const first = await reader.read();
    await reader.cancel();
    return {
      status: response.status,
      headers: response.headers,
      text: new TextDecoder().decode(first.value ?? new Uint8Array()),
    };
  }
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Decodes a `Transfer-Encoding: chunked` body. */
function dechunk(body: string): string {
  let out = "";
  let rest = body;
  for (let i = 0; i < 10_000 && rest.length > 0; i++) {
    const end = rest.indexOf("\r\n");
    if (end < 0) break;
    const size = parseInt(rest.slice(0, end), 16);
    if (!(size > 0)) break;
    out += rest.slice(end + 2, end + 2 + size);
    rest = rest.slice(end + 2 + size + 2);
  }
  return out;
}

/** Speaks HTTP/1.1 by hand, so the Host header can be anything. */
async function sendRaw(url: string, request: string): Promise<Answer> {
  const { port } = new URL(url);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  await conn.write(new TextEncoder().encode(request));
  const reply = await new Response(conn.readable).text();
  const split = reply.indexOf("\r\n\r\n");
  const head = reply.slice(0, split < 0 ? reply.length : split).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? "")?.[1] ?? 0);
  const headers = new Headers();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let text = split < 0 ? "" : reply.slice(split + 4);
  if (headers.get("transfer-encoding")?.includes("chunked")) text = dechunk(text);
  return { status, headers, text };
}

function rawRequest(row: Row, ctx: Ctx, path: string): string {
  const body = resolve(row.body, ctx);
  const text = typeof body === "string" ? body : "";
  const lines = [`${row.method} ${path} HTTP/1.1`];
  if (row.rawHost !== "") lines.push(`Host: ${row.rawHost}`);
  for (const [key, value] of Object.entries(headersFor(row, ctx))) lines.push(`${key}: ${value}`);
  lines.push(`Content-Length: ${new TextEncoder().encode(text).byteLength}`, "Connection: close");
  return `${lines.join("\r\n")}\r\n\r\n${text}`;
}

async function send(row: Row, ctx: Ctx): Promise<Answer> {
  const path = resolve(row.path, ctx)!;
  if (row.rawHost !== undefined) return await sendRaw(ctx.url, rawRequest(row, ctx, path));
  const body = resolve(row.body, ctx);
  const response = await fetch(`${ctx.url}${path}`, {
    method: row.method,
    headers: headersFor(row, ctx),
    body: typeof body === "function" ? body() : body ?? null,
  });
  return await readAnswer(response, row.method);
}

function expected(row: Row): readonly number[] {
  return typeof row.expect === "number" ? [row.expect] : row.expect;
}

function label(row: Row, ctx: Ctx): string {
  const path = resolve(row.path, ctx)!.replace(/session_id=[^&]+/, "session_id=…");
  const want = expected(row).join("|");
  const code = row.code === undefined ? "" : ` / ${row.code}`;
  const note = row.note ? ` (arguable: ${row.note})` : "";
  return `${row.method} ${path}: ${row.name} → ${want}${code}${note}`;
}

/** The last JSON-RPC message of an SSE body. */
function lastSseMessage(text: string): Record<string, unknown> {
  const data = text.split("\n").filter((l) => l.startsWith("data: ") && l.length > 6);
  return JSON.parse(data.at(-1)?.slice(6) ?? "null");
}

function assertAnswer(row: Row, answer: Answer): void {
  const where = `${row.method} ${row.name}: answered ${answer.status} ${answer.text.slice(0, 300)}`;
  assert.ok(expected(row).includes(answer.status), where);
  if (row.allow !== undefined) assert.equal(answer.headers.get("allow"), row.allow, where);
  if (row.challenge) assert.match(answer.headers.get("www-authenticate") ?? "", row.challenge);
  const jsonRpc = row.jsonRpc ?? answer.status >= 400;
  if (jsonRpc) {
    const type = answer.headers.get("content-type") ?? "";
    assert.match(type, /application\/json|text\/event-stream/, where);
    const body = type.includes("text/event-stream")
      ? lastSseMessage(answer.text)
      : JSON.parse(answer.text);
    assert.equal(body.jsonrpc, "2.0", where);
    assert.equal(typeof body.error?.code, "number", where);
    assert.equal(typeof body.error?.message, "string", where);
    if (row.code !== undefined) assert.equal(body.error.code, row.code, where);
  }
  row.check?.(answer);
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

const LEGACY_TOOLS_LIST = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
const INITIALIZE = JSON.stringify(initializeBody());
const SESSIONLESS_2025 = { "mcp-protocol-version": "2025-06-18" };
const modernList = modernRequest("tools/list");
const MODERN_LIST_BODY = JSON.stringify(modernList.body);
const LIST_JOBS_CALL = modern("tools/call", { name: "list_jobs", arguments: {} });

/** A 2026-07-28 request with its headers; `edit` changes the body before it is serialised. */
function modern(
  method: string,
  params: Record<string, unknown> = {},
  edit: (body: Record<string, unknown>) => void = () => {},
): { body: string; headers: HeaderSpec } {
  const request = modernRequest(method, params);
  edit(request.body);
  return { body: JSON.stringify(request.body), headers: request.headers };
}

function metaOf(body: Record<string, unknown>): Record<string, unknown> {
  return (body.params as { _meta: Record<string, unknown> })._meta;
}

/** Bodies that are not a JSON-RPC message, with the code each must get. */
const BAD_BODIES: readonly { name: string; body: string; code: number }[] = [
  { name: "malformed JSON", body: "{not json", code: -32700 },
  { name: "empty body", body: "", code: -32700 },
  { name: "a JSON number", body: "42", code: -32600 },
  { name: "a JSON string", body: '"tools/list"', code: -32600 },
  { name: "null", body: "null", code: -32600 },
  { name: "an array of junk", body: '[1, "two", null, {"x": []}]', code: -32600 },
  { name: "an empty array", body: "[]", code: -32600 },
  { name: "{}", body: "{}", code: -32600 },
  {
    name: 'jsonrpc "1.0"',
    body: '{"jsonrpc":"1.0","id":1,"method":"tools/list"}',
    code: -32600,
  },
  { name: "method is a number", body: '{"jsonrpc":"2.0","id":1,"method":42}', code: -32600 },
  {
    name: "method is null",
    body: '{"jsonrpc":"2.0","id":1,"method":null,"params":{}}',
    code: -32600,
  },
  {
    name: "params is a string",
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":"all"}',
    code: -32600,
  },
  {
    name: "params is a number",
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":7}',
    code: -32600,
  },
  {
    name: "id is an object",
    body: '{"jsonrpc":"2.0","id":{"a":1},"method":"tools/list"}',
    code: -32600,
  },
];

/** The places a JSON-RPC body goes. */
const BODY_TARGETS: readonly {
  name: string;
  path: Lazy<string>;
  headers: Lazy<HeaderSpec>;
}[] = [
  { name: "2025, no session", path: "/mcp", headers: SESSIONLESS_2025 },
  { name: "2026-07-28 headers", path: "/mcp", headers: modernList.headers },
  { name: "in a 2025 session", path: "/mcp", headers: (c) => sessionHeaders(c.session) },
  { name: "live legacy SSE session", path: (c) => c.messages, headers: {} },
];

function bodyRows(): Row[] {
  const rows: Row[] = [];
  for (const target of BODY_TARGETS) {
    for (const bad of BAD_BODIES) {
      rows.push({
        name: `${bad.name} (${target.name})`,
        method: "POST",
        path: target.path,
        headers: target.headers,
        body: bad.body,
        expect: 400,
        code: bad.code,
      });
    }
  }
  return rows;
}

const huge = (json: Record<string, unknown>) =>
  JSON.stringify({ ...json, pad: "x".repeat(MAX_BODY + 1024) });

function chunkedHuge(): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent++ < (MAX_BODY / chunk.byteLength) + 2) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

const sizeRows: Row[] = [
  {
    name: "body over --max-body-bytes (2025)",
    method: "POST",
    path: "/mcp",
    body: huge(initializeBody()),
    expect: 413,
  },
  {
    name: "body over --max-body-bytes (2026-07-28)",
    method: "POST",
    path: "/mcp",
    headers: modernList.headers,
    body: huge(modernList.body),
    expect: 413,
  },
  {
    name: "body over --max-body-bytes (in a session)",
    method: "POST",
    path: "/mcp",
    headers: (c) => sessionHeaders(c.session),
    body: huge({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    expect: 413,
  },
  {
    name: "chunked body over --max-body-bytes (no Content-Length)",
    method: "POST",
    path: "/mcp",
    body: () => chunkedHuge,
    expect: 413,
  },
  {
    name: "body over --max-body-bytes (legacy SSE session)",
    method: "POST",
    path: (c) => c.messages,
    body: huge({ jsonrpc: "2.0", id: 1, method: "ping" }),
    expect: 413,
  },
  {
    name: "batch of 101 messages (over the SDK's 100)",
    method: "POST",
    path: "/mcp",
    headers: { "mcp-protocol-version": "2025-03-26" },
    body: JSON.stringify(
      Array.from({ length: 101 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "ping" })),
    ),
    expect: 400,
    code: -32600,
  },
];

const contentTypeRows: Row[] = [
  {
    name: "Content-Type text/plain",
    method: "POST",
    path: "/mcp",
    headers: { "content-type": "text/plain" },
    body: INITIALIZE,
    expect: 415,
  },
  {
    name: "no Content-Type",
    method: "POST",
    path: "/mcp",
    headers: { "content-type": undefined },
    body: new TextEncoder().encode(INITIALIZE),
    expect: 415,
  },
  {
    name: "Content-Type application/jsonx",
    method: "POST",
    path: "/mcp",
    headers: { "content-type": "application/jsonx" },
    body: LEGACY_TOOLS_LIST,
    expect: 415,
  },
  {
    name: "Content-Type multipart/form-data",
    method: "POST",
    path: "/mcp",
    headers: { "content-type": "multipart/form-data; boundary=x" },
    body: "--x--",
    expect: 415,
  },
  {
    name: "Content-Type text/plain (2026-07-28)",
    method: "POST",
    path: "/mcp",
    headers: { ...modernList.headers, "content-type": "text/plain" },
    body: MODERN_LIST_BODY,
    expect: 415,
  },
  {
    name: "Content-Type text/plain (legacy SSE session)",
    method: "POST",
    path: (c) => c.messages,
    headers: { "content-type": "text/plain" },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    expect: 415,
  },
  {
    name: "no Content-Type (legacy SSE session)",
    method: "POST",
    path: (c) => c.messages,
    headers: { "content-type": undefined },
    body: new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"method":"ping"}'),
    expect: 415,
  },
];

const acceptRows: Row[] = [
  {
    name: "Accept application/json only (initialize)",
    method: "POST",
    path: "/mcp",
    headers: { accept: "application/json" },
    body: INITIALIZE,
    expect: 406,
  },
  {
    name: "no Accept (initialize)",
    method: "POST",
    path: "/mcp",
    headers: { accept: undefined },
    body: INITIALIZE,
    expect: 406,
  },
  {
    name: "Accept text/html (2025, no session)",
    method: "POST",
    path: "/mcp",
    headers: { ...SESSIONLESS_2025, accept: "text/html" },
    body: LEGACY_TOOLS_LIST,
    expect: 406,
  },
  {
    name: "Accept */* (initialize)",
    method: "POST",
    path: "/mcp",
    headers: { accept: "*/*" },
    body: INITIALIZE,
    expect: 406,
    note: "the SDK wants both types listed literally; HTTP would let */* cover them",
  },
  {
    name: "Accept of 16 KiB junk (initialize)",
    method: "POST",
    path: "/mcp",
    headers: { accept: "text/html,".repeat(1600) },
    body: INITIALIZE,
    expect: 406,
  },
  {
    name: "Accept application/json only (in a session)",
    method: "POST",
    path: "/mcp",
    headers: (c) => ({ ...sessionHeaders(c.session), accept: "application/json" }),
    body: LEGACY_TOOLS_LIST,
    expect: 406,
  },
  {
    name: "GET stream with Accept application/json (in a session)",
    method: "GET",
    path: "/mcp",
    headers: (c) => ({ ...sessionHeaders(c.session), accept: "application/json" }),
    expect: 406,
  },
  {
    name: "GET /sse with Accept application/json",
    method: "GET",
    path: "/sse",
    headers: { accept: "application/json" },
    expect: 406,
  },
  {
    name: "Accept text/html (2026-07-28 tools/list)",
    method: "POST",
    path: "/mcp",
    headers: { ...modernList.headers, accept: "text/html" },
    body: MODERN_LIST_BODY,
    expect: 200,
    jsonRpc: false,
    note: "the 2026-07-28 leg does not check Accept (the 406 is SDK behaviour for 2025 only)",
  },
  {
    name: "Accept application/json only (2026-07-28 tools/call)",
    method: "POST",
    path: "/mcp",
    headers: { ...LIST_JOBS_CALL.headers, accept: "application/json" },
    body: LIST_JOBS_CALL.body,
    expect: 200,
    jsonRpc: false,
    check: (answer) => {
      // Today the answer is an SSE stream although the client accepts only JSON.
      assert.match(answer.headers.get("content-type") ?? "", /text\/event-stream/);
      assert.match(answer.text, /"jsonrpc":"2\.0"/);
    },
    note: "tools/call always answers text/event-stream, even to Accept: application/json",
  },
];

const sessionRows: Row[] = [
  {
    name: "unknown Mcp-Session-Id",
    method: "POST",
    path: "/mcp",
    headers: sessionHeaders("no-such-session"),
    body: LEGACY_TOOLS_LIST,
    expect: 404,
    code: -32001,
  },
  {
    name: "Mcp-Session-Id of path junk",
    method: "POST",
    path: "/mcp",
    headers: sessionHeaders("../../etc/passwd"),
    body: LEGACY_TOOLS_LIST,
    expect: 404,
    code: -32001,
  },
  {
    name: "Mcp-Session-Id of 16 KiB",
    method: "POST",
    path: "/mcp",
    headers: sessionHeaders("s".repeat(16 * 1024)),
    body: LEGACY_TOOLS_LIST,
    expect: 404,
    code: -32001,
  },
  {
    name: "unknown Mcp-Session-Id (GET stream)",
    method: "GET",
    path: "/mcp",
    headers: { ...sessionHeaders("no-such-session"), accept: "text/event-stream" },
    expect: 404,
    code: -32001,
  },
  {
    name: "unknown Mcp-Session-Id (DELETE)",
    method: "DELETE",
    path: "/mcp",
    headers: sessionHeaders("no-such-session"),
    expect: 404,
    code: -32001,
  },
  {
    name: "a legacy SSE session id as Mcp-Session-Id",
    method: "POST",
    path: "/mcp",
    headers: (c) => sessionHeaders(new URL(c.messages, c.url).searchParams.get("session_id")!),
    body: LEGACY_TOOLS_LIST,
    expect: 404,
    code: -32001,
  },
  {
    name: "a second initialize on a live session",
    method: "POST",
    path: "/mcp",
    headers: (c) => sessionHeaders(c.session),
    body: JSON.stringify(initializeBody("2025-06-18", 2)),
    expect: 400,
    code: -32600,
  },
  {
    name: "initialize together with another request in a batch",
    method: "POST",
    path: "/mcp",
    headers: { "mcp-protocol-version": "2025-03-26" },
    body: JSON.stringify([initializeBody(), { jsonrpc: "2.0", id: 2, method: "tools/list" }]),
    expect: 400,
    code: -32600,
  },
  {
    name: "Last-Event-ID junk (GET stream in a session)",
    method: "GET",
    path: "/mcp",
    headers: (c) => ({
      ...sessionHeaders(c.session),
      accept: "text/event-stream",
      "last-event-id": "junk",
    }),
    expect: 400,
    code: -32000,
  },
  {
    name: "unknown session_id",
    method: "POST",
    path: "/messages/?session_id=no-such-session",
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    expect: 404,
    code: -32001,
  },
  {
    name: "unknown sessionId (TS SDK spelling)",
    method: "POST",
    path: "/messages/?sessionId=no-such-session",
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    expect: 404,
    code: -32001,
  },
  {
    name: "a /mcp session id as session_id",
    method: "POST",
    path: (c) => `/messages/?session_id=${c.session}`,
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    expect: 404,
    code: -32001,
  },
  {
    name: "no session_id",
    method: "POST",
    path: "/messages/",
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    expect: 400,
  },
  {
    name: "empty session_id",
    method: "POST",
    path: "/messages/?session_id=",
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    expect: 400,
  },
  {
    name: "no session_id, malformed JSON",
    method: "POST",
    path: "/messages",
    body: "{nope",
    expect: 400,
  },
];

const versionRows: Row[] = [
  {
    name: "unsupported MCP-Protocol-Version 1999-01-01 (2025, no session)",
    method: "POST",
    path: "/mcp",
    headers: { "mcp-protocol-version": "1999-01-01" },
    body: LEGACY_TOOLS_LIST,
    expect: 400,
  },
  {
    name: "unsupported MCP-Protocol-Version 1999-01-01 (in a session)",
    method: "POST",
    path: "/mcp",
    headers: (c) => ({ ...sessionHeaders(c.session), "mcp-protocol-version": "1999-01-01" }),
    body: LEGACY_TOOLS_LIST,
    expect: 400,
  },
  {
    name: "MCP-Protocol-Version 'garbage' (in a session)",
    method: "POST",
    path: "/mcp",
    headers: (c) => ({ ...sessionHeaders(c.session), "mcp-protocol-version": "garbage" }),
    body: LEGACY_TOOLS_LIST,
    expect: 400,
    note: "answered -32602 'missing envelope' (it sorts after 2026 so is taken as modern)",
  },
  {
    name: "MCP-Protocol-Version of 16 KiB (2025, no session)",
    method: "POST",
    path: "/mcp",
    headers: { "mcp-protocol-version": "2".repeat(16 * 1024) },
    body: LEGACY_TOOLS_LIST,
    expect: 400,
  },
  {
    name: "header version disagrees with _meta (2026-07-28)",
    method: "POST",
    path: "/mcp",
    headers: { ...modernList.headers, "mcp-protocol-version": "2025-06-18" },
    body: MODERN_LIST_BODY,
    expect: 400,
    code: -32020,
  },
  {
    name: "no MCP-Protocol-Version header (2026-07-28 body)",
    method: "POST",
    path: "/mcp",
    headers: { ...modernList.headers, "mcp-protocol-version": undefined },
    body: MODERN_LIST_BODY,
    expect: 400,
    code: -32020,
  },
  {
    name: "unsupported revision 2099-01-01 in header and _meta",
    method: "POST",
    path: "/mcp",
    headers: { ...modernList.headers, "mcp-protocol-version": "2099-01-01" },
    body: modern("tools/list", {}, (b) => {
      metaOf(b)["io.modelcontextprotocol/protocolVersion"] = "2099-01-01";
    }).body,
    expect: 400,
    code: -32022,
    check: (answer) => assert.ok(answer.text.includes(MODERN), "data.supported lists it"),
  },
  {
    name: "2026-07-28 header but no _meta envelope",
    method: "POST",
    path: "/mcp",
    headers: modernList.headers,
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    expect: 400,
    code: -32602,
  },
  {
    name: "_meta without clientCapabilities",
    method: "POST",
    path: "/mcp",
    headers: modernList.headers,
    body: modern("tools/list", {}, (b) => {
      delete metaOf(b)["io.modelcontextprotocol/clientCapabilities"];
    }).body,
    expect: 400,
    code: -32602,
  },
  // 2026-07-28 clients SHOULD send clientInfo; it is not required, so a request without it is
  // served, while a malformed one is refused.
  {
    name: "_meta without clientInfo is served",
    method: "POST",
    path: "/mcp",
    headers: modernList.headers,
    body: modern("tools/list", {}, (b) => {
      delete metaOf(b)["io.modelcontextprotocol/clientInfo"];
    }).body,
    expect: 200,
  },
  {
    name: "_meta is a string",
    method: "POST",
    path: "/mcp",
    headers: modernList.headers,
    body: modern("tools/list", {}, (b) => {
      (b.params as Record<string, unknown>)._meta = "envelope";
    }).body,
    expect: 400,
    code: -32600,
  },
  {
    name: "a batch holding a 2026-07-28 request",
    method: "POST",
    path: "/mcp",
    headers: modernList.headers,
    body: JSON.stringify([modernList.body]),
    expect: 400,
    code: -32600,
  },
];

const resourcesRead = modern("resources/read", { uri: "fal://jobs/no-such-job" });
const promptsGet = modern("prompts/get", { name: "create_media", arguments: {} });

const headerBodyRows: Row[] = [
  {
    name: "Mcp-Method names another method",
    method: "POST",
    path: "/mcp",
    headers: { ...modernList.headers, "mcp-method": "prompts/list" },
    body: MODERN_LIST_BODY,
    expect: 400,
    code: -32020,
  },
  {
    name: "no Mcp-Method header",
    method: "POST",
    path: "/mcp",
    headers: { ...modernList.headers, "mcp-method": undefined },
    body: MODERN_LIST_BODY,
    expect: 400,
    code: -32020,
  },
  {
    name: "Mcp-Method of 16 KiB",
    method: "POST",
    path: "/mcp",
    headers: { ...modernList.headers, "mcp-method": "m".repeat(16 * 1024) },
    body: MODERN_LIST_BODY,
    expect: 400,
    code: -32020,
  },
  {
    name: "tools/call without Mcp-Name",
    method: "POST",
    path: "/mcp",
    headers: { ...LIST_JOBS_CALL.headers, "mcp-name": undefined },
    body: LIST_JOBS_CALL.body,
    expect: 400,
    code: -32020,
  },
  {
    name: "tools/call with an empty Mcp-Name",
    method: "POST",
    path: "/mcp",
    headers: { ...LIST_JOBS_CALL.headers, "mcp-name": "" },
    body: LIST_JOBS_CALL.body,
    expect: 400,
    code: -32020,
  },
  {
    name: "tools/call whose Mcp-Name names another tool",
    method: "POST",
    path: "/mcp",
    headers: { ...LIST_JOBS_CALL.headers, "mcp-name": "run_model" },
    body: LIST_JOBS_CALL.body,
    expect: 400,
    code: -32020,
  },
  {
    name: "resources/read without Mcp-Name",
    method: "POST",
    path: "/mcp",
    headers: resourcesRead.headers,
    body: resourcesRead.body,
    expect: 400,
    code: -32020,
  },
  {
    name: "resources/read whose Mcp-Name names another URI",
    method: "POST",
    path: "/mcp",
    headers: { ...resourcesRead.headers, "mcp-name": "fal://jobs/other" },
    body: resourcesRead.body,
    expect: 400,
    code: -32020,
  },
  {
    name: "prompts/get whose Mcp-Name names another prompt",
    method: "POST",
    path: "/mcp",
    headers: { ...promptsGet.headers, "mcp-name": "other_prompt" },
    body: promptsGet.body,
    expect: 400,
    code: -32020,
  },
  {
    name: "unknown method (headers agree)",
    method: "POST",
    path: "/mcp",
    headers: modern("no/such/method").headers,
    body: modern("no/such/method").body,
    expect: 404,
    code: -32601,
  },
];

const badPromptArguments = modern("prompts/get", {
  name: "create_media",
  arguments: { request: { nested: ["not", "a", "string"] } },
});

const paramsRows: Row[] = [
  // Params that fail the SDK's own request schema are answered by the SDK (2.4.0) with -32603
  // and the schema issues, where JSON-RPC would say -32602: a clear error, not a crash.
  {
    name: "prompts/get whose argument values are not strings (2026-07-28)",
    method: "POST",
    path: "/mcp",
    headers: badPromptArguments.headers,
    body: badPromptArguments.body,
    expect: 200,
    jsonRpc: true,
    code: -32603,
    note: "the SDK reports request-schema failures as -32603",
  },
  {
    name: "initialize without params (2025)",
    method: "POST",
    path: "/mcp",
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize" }),
    expect: 400,
    jsonRpc: true,
    code: -32602,
  },
];

const methodRows: Row[] = [
  {
    name: "PUT",
    method: "PUT",
    path: "/mcp",
    expect: 405,
    allow: "GET, POST, DELETE",
  },
  {
    name: "PATCH",
    method: "PATCH",
    path: "/mcp",
    body: LEGACY_TOOLS_LIST,
    expect: 405,
    allow: "GET, POST, DELETE",
  },
  {
    name: "HEAD",
    method: "HEAD",
    path: "/mcp",
    expect: 405,
    allow: "GET, POST, DELETE",
    jsonRpc: false,
  },
  {
    name: "PUT in a session",
    method: "PUT",
    path: "/mcp",
    headers: (c) => sessionHeaders(c.session),
    body: LEGACY_TOOLS_LIST,
    expect: 405,
    allow: "GET, POST, DELETE",
  },
  {
    name: "GET without a session (no stateless GET stream)",
    method: "GET",
    path: "/mcp",
    headers: { accept: "text/event-stream" },
    expect: 405,
    allow: "POST",
    note: "Allow says POST although GET and DELETE work with a session",
  },
  {
    name: "GET without a session, 2026-07-28 header",
    method: "GET",
    path: "/mcp",
    headers: { accept: "text/event-stream", "mcp-protocol-version": MODERN },
    expect: 405,
  },
  {
    name: "DELETE without a session",
    method: "DELETE",
    path: "/mcp",
    expect: 405,
  },
  {
    name: "OPTIONS without Origin (preflight answered anyway)",
    method: "OPTIONS",
    path: "/mcp",
    expect: 204,
  },
  { name: "POST", method: "POST", path: "/sse", body: "{}", expect: 405, allow: "GET" },
  { name: "PUT", method: "PUT", path: "/sse", expect: 405, allow: "GET" },
  { name: "DELETE", method: "DELETE", path: "/sse", expect: 405, allow: "GET" },
  { name: "GET without session_id", method: "GET", path: "/messages/", expect: 405, allow: "POST" },
  {
    name: "GET with a live session_id",
    method: "GET",
    path: (c) => c.messages,
    expect: 405,
    allow: "POST",
  },
  {
    name: "DELETE with a live session_id",
    method: "DELETE",
    path: (c) => c.messages,
    expect: 405,
    allow: "POST",
  },
  {
    name: "POST",
    method: "POST",
    path: "/health",
    body: "{}",
    expect: 405,
    allow: "GET, HEAD",
  },
  { name: "DELETE", method: "DELETE", path: "/health", expect: 405, allow: "GET, HEAD" },
  { name: "HEAD", method: "HEAD", path: "/health", expect: 200, jsonRpc: false },
  { name: "POST", method: "POST", path: "/ready", body: "{nope", expect: 405, allow: "GET, HEAD" },
  { name: "DELETE", method: "DELETE", path: "/metrics", expect: 405, allow: "GET, HEAD" },
  { name: "unknown path", method: "GET", path: "/nope", expect: 404, code: -32600 },
  { name: "unknown path, malformed JSON", method: "POST", path: "/nope", body: "{", expect: 404 },
  { name: "trailing slash", method: "POST", path: "/mcp/", body: INITIALIZE, expect: 404 },
  { name: "upper case", method: "POST", path: "/MCP", body: INITIALIZE, expect: 404 },
  { name: "trailing slash", method: "GET", path: "/sse/", expect: 404 },
  { name: "double slash", method: "GET", path: "//health", expect: 404 },
];

const originRows: Row[] = [
  {
    name: "foreign Origin",
    method: "POST",
    path: "/mcp",
    headers: { origin: EVIL },
    body: INITIALIZE,
    expect: 403,
    code: -32600,
  },
  {
    name: "foreign Origin (2026-07-28)",
    method: "POST",
    path: "/mcp",
    headers: { ...modernList.headers, origin: EVIL },
    body: MODERN_LIST_BODY,
    expect: 403,
  },
  {
    name: "foreign Origin (GET stream in a session)",
    method: "GET",
    path: "/mcp",
    headers: (c) => ({ ...sessionHeaders(c.session), accept: "text/event-stream", origin: EVIL }),
    expect: 403,
  },
  {
    name: "foreign Origin (DELETE a session)",
    method: "DELETE",
    path: "/mcp",
    headers: (c) => ({ ...sessionHeaders(c.session), origin: EVIL }),
    expect: 403,
  },
  {
    name: "foreign Origin (preflight)",
    method: "OPTIONS",
    path: "/mcp",
    headers: { origin: EVIL, "access-control-request-method": "POST" },
    expect: 403,
  },
  {
    name: "foreign Origin",
    method: "GET",
    path: "/sse",
    headers: { origin: EVIL, accept: "text/event-stream" },
    expect: 403,
  },
  {
    name: "foreign Origin (live session)",
    method: "POST",
    path: (c) => c.messages,
    headers: { origin: EVIL },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    expect: 403,
  },
  {
    name: "Origin null",
    method: "POST",
    path: "/mcp",
    headers: { origin: "null" },
    body: INITIALIZE,
    expect: 403,
  },
  {
    name: "Origin with a loopback name as a prefix",
    method: "POST",
    path: "/mcp",
    headers: { origin: "http://localhost.evil.example" },
    body: INITIALIZE,
    expect: 403,
  },
  {
    name: "Origin of 16 KiB",
    method: "POST",
    path: "/mcp",
    headers: { origin: `http://${"a".repeat(16 * 1024)}.example` },
    body: INITIALIZE,
    expect: 403,
  },
  {
    name: "foreign Origin on /health (not an MCP endpoint)",
    method: "GET",
    path: "/health",
    headers: { origin: EVIL },
    expect: 200,
    jsonRpc: false,
  },
];

const hostRows: Row[] = [
  {
    name: "foreign Host",
    method: "POST",
    path: "/mcp",
    rawHost: "evil.example",
    body: INITIALIZE,
    expect: 403,
    code: -32600,
  },
  {
    name: "foreign Host with a loopback name as a prefix",
    method: "POST",
    path: "/mcp",
    rawHost: "localhost.evil.example",
    body: INITIALIZE,
    expect: 403,
  },
  {
    name: "foreign Host",
    method: "GET",
    path: "/sse",
    rawHost: "evil.example",
    headers: { accept: "text/event-stream" },
    expect: 403,
  },
  {
    name: "foreign Host (live session)",
    method: "POST",
    path: (c) => c.messages,
    rawHost: "evil.example:8000",
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    expect: 403,
  },
  {
    name: "no Host header",
    method: "POST",
    path: "/mcp",
    rawHost: "",
    body: INITIALIZE,
    expect: [400, 403],
  },
  // Hosts that make no valid URL: RFC 9110 says 400. Today the app's `new URL(request.url)`
  // throws before its try/catch, and Deno.serve's onError answers a plain-text 500.
  {
    name: "Host with a space (not a valid Host)",
    method: "POST",
    path: "/mcp",
    rawHost: "a b",
    body: INITIALIZE,
    expect: [400, 403],
  },
  {
    name: "Host with an unclosed IPv6 bracket",
    method: "POST",
    path: "/mcp",
    rawHost: "[::1",
    body: INITIALIZE,
    expect: [400, 403],
  },
  {
    name: "Host with port 99999",
    method: "GET",
    path: "/sse",
    rawHost: "localhost:99999",
    headers: { accept: "text/event-stream" },
    expect: [400, 403],
  },
  {
    name: "Host with a non-numeric port",
    method: "GET",
    path: "/health",
    rawHost: "localhost:abc",
    expect: 400,
  },
  {
    name: "Host that is a lone %",
    method: "GET",
    path: "/ready",
    rawHost: "%",
    expect: 400,
  },
  // Not a valid Host (RFC 9110: 400). Today the guard parses it as a URL with userinfo, sees
  // hostname 127.0.0.1, and lets it through: 200.
  {
    name: "Host with userinfo before a loopback address",
    method: "POST",
    path: "/mcp",
    rawHost: "evil.example:80@127.0.0.1",
    body: INITIALIZE,
    expect: [400, 403],
  },
  // The path comes from request.url, which is built from the Host header: today this request
  // for /static/app.js is routed to /mcp and opens a session (200).
  {
    name: "Host carrying a path (/mcp?) on another path",
    method: "POST",
    path: "/static/app.js",
    rawHost: "127.0.0.1/mcp?",
    body: INITIALIZE,
    expect: [400, 404],
  },
];

const oversizeRows: Row[] = [
  {
    name: "a 128 KiB header (over the HTTP server's header limit)",
    method: "GET",
    path: "/health",
    headers: { "x-pad": "a".repeat(128 * 1024) },
    expect: [400, 431],
    jsonRpc: false,
    note: "the Deno HTTP server answers 400 with no body; 431 would be the precise status",
  },
  {
    name: "a 128 KiB header (over the HTTP server's header limit)",
    method: "POST",
    path: "/mcp",
    headers: { "x-pad": "a".repeat(128 * 1024) },
    body: INITIALIZE,
    expect: [400, 431],
    jsonRpc: false,
  },
  {
    name: "X-Request-Id of 16 KiB is not echoed",
    method: "GET",
    path: "/health",
    headers: { "x-request-id": "r".repeat(16 * 1024) },
    expect: 200,
    jsonRpc: false,
    check: (answer) => assert.ok((answer.headers.get("x-request-id") ?? "").length <= 128),
  },
];

const OPEN_ROWS: readonly Row[] = [
  ...bodyRows(),
  ...sizeRows,
  ...contentTypeRows,
  ...acceptRows,
  ...sessionRows,
  ...versionRows,
  ...headerBodyRows,
  ...paramsRows,
  ...methodRows,
  ...originRows,
  ...hostRows,
  ...oversizeRows,
];

const UNAUTHENTICATED = /^Bearer realm="fal-mcp"$/;
const INVALID_TOKEN = /^Bearer realm="fal-mcp", error="invalid_token"$/;

/** Every MCP endpoint, for the token rows. */
const AUTH_TARGETS: readonly { name: string; method: string; path: Lazy<string>; body?: string }[] =
  [
    { name: "initialize", method: "POST", path: "/mcp", body: INITIALIZE },
    { name: "2026-07-28 tools/list", method: "POST", path: "/mcp", body: MODERN_LIST_BODY },
    { name: "GET stream", method: "GET", path: "/mcp" },
    { name: "DELETE", method: "DELETE", path: "/mcp" },
    { name: "PUT", method: "PUT", path: "/mcp" },
    { name: "open stream", method: "GET", path: "/sse" },
    { name: "live session", method: "POST", path: (c) => c.messages, body: "{}" },
    { name: "no session_id", method: "GET", path: "/messages/" },
  ];

function authRows(): Row[] {
  const rows: Row[] = [];
  for (const target of AUTH_TARGETS) {
    const base = { method: target.method, path: target.path, body: target.body, expect: 401 };
    rows.push(
      {
        ...base,
        name: `no Authorization (${target.name})`,
        headers: { authorization: undefined, accept: "application/json, text/event-stream" },
        code: -32001,
        challenge: UNAUTHENTICATED,
      },
      {
        ...base,
        name: `unknown bearer token (${target.name})`,
        headers: { authorization: "Bearer not-a-configured-token-0000" },
        code: -32001,
        challenge: INVALID_TOKEN,
      },
    );
  }
  const post = (name: string, authorization: string | undefined, challenge: RegExp): Row => ({
    name,
    method: "POST",
    path: "/mcp",
    headers: { authorization },
    body: INITIALIZE,
    expect: 401,
    code: -32001,
    challenge,
  });
  rows.push(
    post("Basic credentials", "Basic dXNlcjpwYXNz", UNAUTHENTICATED),
    post("the token without a scheme", TOKEN_A, UNAUTHENTICATED),
    post("the token under fal's Key scheme", `Key ${TOKEN_A}`, UNAUTHENTICATED),
    post("Bearer with no token", "Bearer ", UNAUTHENTICATED),
    post("two tokens", `Bearer ${TOKEN_A} ${TOKEN_B}`, UNAUTHENTICATED),
    post("a prefix of a real token", `Bearer ${TOKEN_A.slice(0, -1)}`, INVALID_TOKEN),
    post("a real token plus one character", `Bearer ${TOKEN_A}x`, INVALID_TOKEN),
    post("a bearer token of 16 KiB", `Bearer ${"t".repeat(16 * 1024)}`, INVALID_TOKEN),
    {
      name: "malformed JSON without a token (auth comes first)",
      method: "POST",
      path: "/mcp",
      headers: { authorization: undefined },
      body: "{nope",
      expect: 401,
      challenge: UNAUTHENTICATED,
    },
    {
      name: "body over --max-body-bytes without a token",
      method: "POST",
      path: "/mcp",
      headers: { authorization: undefined },
      body: huge(initializeBody()),
      expect: 401,
    },
    {
      name: "foreign Origin without a token (the guard comes first)",
      method: "POST",
      path: "/mcp",
      headers: { authorization: undefined, origin: EVIL },
      body: INITIALIZE,
      expect: 403,
    },
    {
      name: "preflight without a token",
      method: "OPTIONS",
      path: "/mcp",
      bare: true,
      headers: { origin: "http://localhost:3000", "access-control-request-method": "POST" },
      expect: 204,
    },
    {
      name: "TOKEN_B using TOKEN_A's session",
      method: "POST",
      path: "/mcp",
      headers: (c) => ({ ...sessionHeaders(c.session), authorization: `Bearer ${TOKEN_B}` }),
      body: LEGACY_TOOLS_LIST,
      expect: 404,
      code: -32001,
    },
    {
      name: "TOKEN_B opening TOKEN_A's session stream",
      method: "GET",
      path: "/mcp",
      headers: (c) => ({
        ...sessionHeaders(c.session),
        accept: "text/event-stream",
        authorization: `Bearer ${TOKEN_B}`,
      }),
      expect: 404,
      code: -32001,
    },
    {
      name: "TOKEN_B deleting TOKEN_A's session",
      method: "DELETE",
      path: "/mcp",
      headers: (c) => ({ ...sessionHeaders(c.session), authorization: `Bearer ${TOKEN_B}` }),
      expect: 404,
      code: -32001,
    },
    {
      name: "TOKEN_B posting to TOKEN_A's legacy SSE session",
      method: "POST",
      path: (c) => c.messages,
      headers: { authorization: `Bearer ${TOKEN_B}` },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      expect: 404,
      code: -32001,
    },
  );
  for (const path of ["/health", "/ready", "/metrics"]) {
    rows.push({
      name: "no token (not an MCP endpoint)",
      method: "GET",
      path,
      bare: true,
      expect: 200,
      jsonRpc: false,
    });
  }
  rows.push({
    name: "unknown path, no token",
    method: "GET",
    path: "/nope",
    bare: true,
    expect: 404,
  });
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Running the table
// ---------------------------------------------------------------------------------------------

/** Opens a legacy SSE session; answers its messages endpoint and a function closing it. */
async function openSse(
  url: string,
  auth: Record<string, string>,
): Promise<{ messages: string; close: () => Promise<void> }> {
  const response = await fetch(`${url}/sse`, { headers: { ...auth, accept: "text/event-stream" } });
  assert.equal(response.status, 200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (let i = 0; i < 100 && !buffer.includes("\n\n"); i++) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
  }
  const messages = /^data: (.+)$/m.exec(buffer)?.[1] ?? "";
  assert.ok(messages.startsWith("/messages/?session_id="), buffer);
  // Keep draining the stream (answers to accepted messages land here) until closed.
  const drained = (async () => {
    for (let i = 0; i < 100_000; i++) if ((await reader.read()).done) return;
  })().catch(() => {});
  return {
    messages,
    close: async () => {
      await reader.cancel().catch(() => {});
      await drained;
    },
  };
}

/** Asserts the server still answers a valid tools/list (stateless and in `session`) and /health. */
async function assertStillServing(ctx: Ctx): Promise<void> {
  const { body, headers } = modernRequest("tools/list", {}, 99);
  const modernAnswer = await post(`${ctx.url}/mcp`, body, { ...headers, ...ctx.auth });
  assert.equal(modernAnswer.status, 200);
  const list = await readMessage(modernAnswer) as { id: number; result: { tools: unknown[] } };
  assert.equal(list.id, 99);
  assert.ok(list.result.tools.length > 5);

  const inSession = await post(
    `${ctx.url}/mcp`,
    { jsonrpc: "2.0", id: 100, method: "tools/list" },
    { ...sessionHeaders(ctx.session), ...ctx.auth },
  );
  assert.equal(inSession.status, 200, "the session survived the bad input");
  const sessionList = await readMessage(inSession) as { result: { tools: unknown[] } };
  assert.ok(sessionList.result.tools.length > 5);

  const legacy = await post(
    `${ctx.url}${ctx.messages}`,
    { jsonrpc: "2.0", id: 101, method: "ping" },
    { ...POST_HEADERS, ...ctx.auth },
  );
  assert.equal(legacy.status, 202, "the legacy SSE session survived the bad input");
  await legacy.body?.cancel();

  const health = await fetch(`${ctx.url}/health`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: "ok" });
}

async function runTable(
  t: Deno.TestContext,
  rows: readonly Row[],
  options: { env?: Record<string, string>; auth: Record<string, string> },
): Promise<void> {
  const server: TestHttpServer = await startTestHttpServer({ env: options.env, args: LIMITS });
  let sse: Awaited<ReturnType<typeof openSse>> | undefined;
  try {
    const session = await openSessionWith(`${server.url}/mcp`, options.auth);
    sse = await openSse(server.url, options.auth);
    const ctx: Ctx = { url: server.url, session, messages: sse.messages, auth: options.auth };
    const serverErrors: string[] = [];
    for (const row of rows) {
      await t.step(label(row, ctx), async () => {
        const answer = await send(row, ctx);
        if (answer.status >= 500 || answer.status === 0) {
          serverErrors.push(`${label(row, ctx)}: ${answer.status} ${answer.text.slice(0, 200)}`);
        }
        assertAnswer(row, answer);
      });
    }
    await t.step("after the table the server still serves tools/list and /health", async () => {
      await assertStillServing(ctx);
    });
    await t.step("no row was answered 5xx", () => {
      assert.deepEqual(serverErrors, []);
    });
  } finally {
    await sse?.close();
    await server.close();
  }
}

/** openSession, with the server's auth headers. */
async function openSessionWith(mcp: string, auth: Record<string, string>): Promise<string> {
  if (Object.keys(auth).length === 0) return await openSession(mcp);
  const response = await post(mcp, initializeBody(), { ...POST_HEADERS, ...auth });
  const id = response.headers.get("mcp-session-id");
  await response.body?.cancel();
  assert.equal(response.status, 200);
  assert.ok(id);
  const initialized = await post(
    mcp,
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { ...sessionHeaders(id), ...auth },
  );
  await initialized.body?.cancel();
  return id;
}

Deno.test("bad input matrix: every endpoint of an open server", async (t) => {
  await runTable(t, OPEN_ROWS, { auth: {} });
});

Deno.test("bad input matrix: every endpoint of a server requiring bearer tokens", async (t) => {
  await runTable(t, authRows(), {
    env: { FAL_MCP_AUTH_TOKENS: `${TOKEN_A},${TOKEN_B}` },
    auth: { authorization: `Bearer ${TOKEN_A}` },
  });
});

Deno.test("bad input matrix: --rate-limit answers 429 with Retry-After, then the server recovers", async () => {
  const server = await startTestHttpServer({ args: ["--rate-limit", "3"] });
  try {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 4; i++) {
      const res = await post(`${server.url}/mcp`, { jsonrpc: "2.0", id: i, method: "ping" }, {
        ...POST_HEADERS,
        ...SESSIONLESS_2025,
      });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.body?.cancel();
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
    assert.ok(Number(limited!.headers.get("retry-after")) >= 1);
    const body = await limited!.json();
    assert.equal(body.jsonrpc, "2.0");
    assert.equal(typeof body.error.code, "number");
    // /health is not rate limited.
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    await server.close();
  }
});

Deno.test("bad input matrix: --max-streams answers 503 to one stream too many", async () => {
  const server = await startTestHttpServer({ args: ["--max-streams", "1", "--rate-limit", "0"] });
  try {
    const first = await fetch(`${server.url}/sse`, { headers: { accept: "text/event-stream" } });
    assert.equal(first.status, 200);
    const second = await fetch(`${server.url}/sse`, { headers: { accept: "text/event-stream" } });
    assert.equal(second.status, 503);
    assert.ok(second.headers.get("retry-after"));
    const body = await second.json();
    assert.equal(body.jsonrpc, "2.0");
    await first.body?.cancel();
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    await server.close();
  }
});
