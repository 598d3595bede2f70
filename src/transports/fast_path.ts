/**
 * The fast 2026-07-28 engine: serves the hot stateless methods, `tools/list` and `tools/call`,
 * without building a server, a transport and the SDK's message guards for every request.
 *
 * - One server per caller ({@linkcode FastPathOptions.reuseKey}) is built once, kept in a bounded
 *   cache, and never connected to a transport: the engine only reads its tool catalogue
 *   ({@linkcode toolsOf}) and calls a tool's handler with a context made for this request alone.
 *   Nothing per request is stored on the shared server, so answers to two callers cannot cross.
 * - `tools/list` is answered from the SDK's own answer, fetched once per caller and kept as
 *   serialized JSON: the zod → JSON Schema conversion runs once per process and caller.
 * - `tools/call` validates the arguments with the tool's own schema (once), runs it and streams
 *   the answer as SSE: progress notifications first, keep-alive comments while it runs, then the
 *   result. Closing the response stream (or the client going away) aborts the call's signal.
 *
 * Only messages the engine can check completely are served here: one well-formed request with a
 * supported protocol version equal to the `MCP-Protocol-Version` header, `Mcp-Method` and
 * `Mcp-Name` headers matching the body, a full `_meta` envelope, a known enabled tool, and none of
 * task augmentation, multi-round-trip input or pagination. Everything else (and every error
 * answer) goes to the SDK's handler, so wording and codes stay the SDK's.
 *
 * @module
 */

import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  type McpServer,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  type RegisteredTool,
  SERVER_INFO_META_KEY,
  type ServerContext,
} from "@modelcontextprotocol/server";
import type { Principal } from "../principal.ts";
import { toAuthInfo } from "../principal.ts";
import { toolsOf } from "../tool_catalog.ts";
import { formatSseEvent, SSE_HEADERS, SSE_KEEP_ALIVE } from "./sse_frame.ts";

/** The protocol revisions the fast engine serves (the SDK's 2026-era revisions). */
export const FAST_PATH_VERSIONS: readonly string[] = ["2026-07-28"];

/** Answers the SDK's own response to a request (used once per caller for `tools/list`). */
export type SdkFetch = (
  request: Request,
  parsedBody: unknown,
  principal: Principal,
) => Promise<Response>;

/** Options for {@linkcode createFastPath}. */
export interface FastPathOptions {
  /** Builds the server for a caller (the one factory). */
  factory: (principal: Principal) => McpServer | Promise<McpServer>;
  /**
   * The key under which a built server may be reused: callers with the same key must get
   * identical servers from the factory (same tools, same fal client). Default: one per caller
   * and fal key.
   */
  reuseKey: (principal: Principal) => string;
  /** The SDK's handler, asked once per caller for the `tools/list` answer. */
  sdkFetch: SdkFetch;
  /** SSE keep-alive comment interval in ms. */
  keepAliveMs: number;
  /** Most cached servers (least recently used ones are dropped). Default 256. */
  maxServers?: number;
}

/** The fast engine. */
export interface FastPath {
  /**
   * Serves `parsedBody` when it is a request the engine handles completely; answers
   * `undefined` otherwise (the caller then hands it to the SDK).
   */
  serve(request: Request, parsedBody: unknown, principal: Principal): Promise<Response> | undefined;
  /** Aborts every call in flight and drops the cached servers. */
  close(): void;
}

interface CallerEntry {
  tools: ReadonlyMap<string, RegisteredTool>;
  /** The `tools/list` result, serialized, once fetched. */
  listJson?: string;
  /** The `tools/list` answer up to its id, as bytes (encoded once). */
  listHead?: Uint8Array;
  /** The server identity stamped into every 2026 result. */
  serverInfo?: unknown;
  listing?: Promise<string | undefined>;
}

type JsonRpcId = string | number;

interface HotRequest {
  id: JsonRpcId;
  method: "tools/list" | "tools/call";
  params: Record<string, unknown>;
  meta: Record<string, unknown>;
}

const JSON_HEADERS = { "content-type": "application/json" };
const ENVELOPE_KEYS = new Set([
  PROTOCOL_VERSION_META_KEY,
  CLIENT_INFO_META_KEY,
  CLIENT_CAPABILITIES_META_KEY,
]);
/** Result keys of multi-round-trip or task answers: those are encoded by the SDK only. */
const FOREIGN_RESULT_KEYS = ["task", "inputRequests", "requestState"];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isImplementation(value: unknown): boolean {
  return isObject(value) && typeof value.name === "string" && typeof value.version === "string";
}

/** The request, when it is one the engine serves completely; else `undefined`. */
function hotRequest(request: Request, body: unknown): HotRequest | undefined {
  if (!isObject(body) || body.jsonrpc !== "2.0") return undefined;
  const { id, method, params } = body;
  if (typeof id !== "string" && typeof id !== "number") return undefined;
  if (method !== "tools/list" && method !== "tools/call") return undefined;
  if (!isObject(params) || !isObject(params._meta)) return undefined;
  const meta = params._meta;
  const version = meta[PROTOCOL_VERSION_META_KEY];
  if (typeof version !== "string" || !FAST_PATH_VERSIONS.includes(version)) return undefined;
  if (!isImplementation(meta[CLIENT_INFO_META_KEY])) return undefined;
  if (!isObject(meta[CLIENT_CAPABILITIES_META_KEY])) return undefined;
  const headers = request.headers;
  if (headers.get("mcp-protocol-version") !== version) return undefined;
  if (headers.get("mcp-method") !== method) return undefined;
  const accept = headers.get("accept") ?? "";
  if (!accept.includes("application/json") || !accept.includes("text/event-stream")) {
    return undefined;
  }
  if ("inputResponses" in params || "requestState" in params) return undefined;
  if (method === "tools/list") {
    if (params.cursor !== undefined) return undefined;
  } else {
    if (typeof params.name !== "string" || headers.get("mcp-name") !== params.name) {
      return undefined;
    }
    if (params.task !== undefined) return undefined;
    if (params.arguments !== undefined && !isObject(params.arguments)) return undefined;
  }
  return { id, method, params, meta };
}

/** The SDK's 2026-era projection of a tool result (empty content added, non-object text). */
function projectResult(result: Record<string, unknown>): Record<string, unknown> {
  let out = result;
  if (out.content === undefined) out = { ...out, content: [] };
  const structured = out.structuredContent;
  const content = out.content as { type?: unknown }[];
  if (
    structured !== undefined &&
    (typeof structured !== "object" || structured === null || Array.isArray(structured)) &&
    !content.some((block) => block.type === "text")
  ) {
    out = { ...out, content: [...content, { type: "text", text: JSON.stringify(structured) }] };
  }
  return out;
}

/** A 2026 result as the SDK encodes it: `resultType` and the server identity in `_meta`. */
function encodeResult(result: Record<string, unknown>, serverInfo: unknown): string {
  const meta = isObject(result._meta) ? result._meta : undefined;
  const encoded: Record<string, unknown> = {
    ...result,
    resultType: result.resultType ?? "complete",
  };
  if (serverInfo !== undefined && meta?.[SERVER_INFO_META_KEY] === undefined) {
    encoded._meta = { ...meta, [SERVER_INFO_META_KEY]: serverInfo };
  }
  return JSON.stringify(encoded);
}

function formatIssue(issue: { message: string; path?: readonly unknown[] | undefined }): string {
  if (!issue.path?.length) return issue.message;
  const path = issue.path.map((p) => String(isObject(p) ? p.key : p)).join(".");
  return `${path}: ${issue.message}`;
}

/** Validates `value` with a tool's input or output schema, worded as the SDK words failures. */
export async function validateWith(
  schema: RegisteredTool["inputSchema"] | RegisteredTool["outputSchema"],
  value: unknown,
): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  if (!schema) return { ok: true, value };
  const result = await schema["~standard"].validate(value);
  if (result.issues && result.issues.length > 0) {
    return { ok: false, error: result.issues.map(formatIssue).join(", ") };
  }
  return { ok: true, value: (result as { value: unknown }).value };
}

/**
 * Runs one tool the way the SDK's `tools/call` handler does: arguments checked against the input
 * schema, structured content against the output schema (not for errors and input-required
 * answers). Answers the tool's raw result; throws what the SDK would turn into an error result.
 */
export async function runCheckedTool(
  tool: RegisteredTool,
  name: string,
  args: unknown,
  ctx: ServerContext,
): Promise<Record<string, unknown>> {
  const input = await validateWith(tool.inputSchema, args ?? {});
  if (!input.ok) {
    throw new ProtocolError(
      ProtocolErrorCode.InvalidParams,
      `Input validation error: Invalid arguments for tool ${name}: ${input.error}`,
    );
  }
  const result = await tool.executor(input.value, ctx) as Record<string, unknown>;
  // Like the SDK: errors and input_required answers are not checked against the schema.
  if (tool.outputSchema && !result.isError && result.resultType !== "input_required") {
    if (result.structuredContent === undefined) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Output validation error: Tool ${name} has an output schema but no structured content was provided`,
      );
    }
    const output = await validateWith(tool.outputSchema, result.structuredContent);
    if (!output.ok) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Output validation error: Invalid structured content for tool ${name}: ${output.error}`,
      );
    }
  }
  return result;
}

/** The SDK's error result for a failed call. */
export function toolErrorResult(error: unknown): Record<string, unknown> {
  const text = error instanceof Error ? error.message : String(error);
  return { content: [{ type: "text", text }], isError: true };
}

/** Runs one tool the way the SDK's `tools/call` handler does; answers the raw result. */
async function runTool(
  tool: RegisteredTool,
  name: string,
  args: unknown,
  ctx: ServerContext,
): Promise<Record<string, unknown>> {
  try {
    return await runCheckedTool(tool, name, args, ctx);
  } catch (error) {
    return toolErrorResult(error);
  }
}

/** Promise hops a tool may take and still be answered in one piece. */
export const QUICK_HOPS = 64;

/** Resolves `false` after `hops` microtask turns (no timer, no I/O). */
export async function afterMicrotasks(hops: number): Promise<false> {
  for (let i = 0; i < hops; i++) await undefined;
  return false;
}

function noServerRequests(): Promise<never> {
  return Promise.reject(
    new ProtocolError(
      ProtocolErrorCode.InternalError,
      "Server-to-client requests are not available on protocol revision 2026-07-28",
    ),
  );
}

/** Creates the fast engine. */
export function createFastPath(options: FastPathOptions): FastPath {
  const maxServers = options.maxServers ?? 256;
  const callers = new Map<string, Promise<CallerEntry | undefined>>();
  const inFlight = new Set<AbortController>();
  const encoder = new TextEncoder();

  /** The cached entry of a caller (built on first use); `undefined` when not recordable. */
  function callerEntry(principal: Principal): Promise<CallerEntry | undefined> {
    const key = options.reuseKey(principal);
    let entry = callers.get(key);
    if (entry) {
      // Most recently used last: the oldest entry is the first one dropped.
      callers.delete(key);
      callers.set(key, entry);
      return entry;
    }
    entry = (async () => {
      const server = await options.factory(principal);
      const recorded = toolsOf(server);
      if (!recorded) return undefined;
      // Tools that declare `Mcp-Param-*` headers (SEP-2243) need the SDK's header checks.
      const tools = new Map<string, RegisteredTool>();
      for (const [name, tool] of recorded) {
        const schema = server.toolInputSchemaJson(name);
        if (schema && !JSON.stringify(schema).includes("x-mcp-header")) tools.set(name, tool);
      }
      return { tools };
    })();
    entry.catch(() => callers.delete(key));
    callers.set(key, entry);
    while (callers.size > maxServers) callers.delete(callers.keys().next().value!);
    return entry;
  }

  /**
   * The serialized `tools/list` result of a caller, from the SDK's own answer to a
   * `tools/list` made with this request's envelope (once per caller).
   */
  function listJson(
    entry: CallerEntry,
    request: Request,
    hot: HotRequest,
    principal: Principal,
  ): Promise<string | undefined> {
    if (entry.listJson !== undefined) return Promise.resolve(entry.listJson);
    entry.listing ??= (async () => {
      const version = String(hot.meta[PROTOCOL_VERSION_META_KEY]);
      const listRequest = new Request(request.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": version,
          "mcp-method": "tools/list",
        },
      });
      const envelope: Record<string, unknown> = {};
      for (const key of ENVELOPE_KEYS) envelope[key] = hot.meta[key];
      const body = { jsonrpc: "2.0", id: 0, method: "tools/list", params: { _meta: envelope } };
      const response = await options.sdkFetch(listRequest, body, principal);
      if (response.status !== 200 || !response.headers.get("content-type")?.includes("json")) {
        await response.body?.cancel();
        return undefined;
      }
      const message = await response.json() as { result?: unknown };
      if (!isObject(message.result)) return undefined;
      const meta = message.result._meta;
      entry.serverInfo = isObject(meta) ? meta[SERVER_INFO_META_KEY] : undefined;
      entry.listJson = JSON.stringify(message.result);
      entry.listHead = encoder.encode(`{"result":${entry.listJson},"jsonrpc":"2.0","id":`);
      return entry.listJson;
    })().catch(() => undefined).finally(() => {
      entry.listing = undefined;
    });
    return entry.listing;
  }

  function respondList(id: JsonRpcId, head: Uint8Array): Response {
    const tail = encoder.encode(`${JSON.stringify(id)}}`);
    const bytes = new Uint8Array(head.byteLength + tail.byteLength);
    bytes.set(head);
    bytes.set(tail, head.byteLength);
    return new Response(bytes, { headers: JSON_HEADERS });
  }

  async function respondCall(
    request: Request,
    hot: HotRequest,
    tool: RegisteredTool,
    entry: CallerEntry,
    principal: Principal,
  ): Promise<Response> {
    const abort = new AbortController();
    inFlight.add(abort);
    /** Text written before the response exists (the whole answer, for a quick tool). */
    let buffered = "";
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
    let closed = false;
    const timers: { keepAlive?: ReturnType<typeof setInterval> } = {};
    const write = (text: string) => {
      if (closed) return;
      if (!stream) {
        buffered += text;
        return;
      }
      try {
        stream.enqueue(encoder.encode(text));
      } catch {
        closed = true;
      }
    };
    const finish = () => {
      if (closed) return;
      closed = true;
      clearInterval(timers.keepAlive);
      inFlight.delete(abort);
      request.signal.removeEventListener("abort", onLeave);
    };
    const onLeave = () => {
      finish();
      abort.abort(new DOMException("The client closed the stream", "AbortError"));
    };
    request.signal.addEventListener("abort", onLeave, { once: true });

    const meta: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(hot.meta)) {
      if (!ENVELOPE_KEYS.has(key)) meta[key] = value;
    }
    const notify = (notification: { method: string; params?: unknown }) => {
      write(formatSseEvent({
        event: "message",
        data: JSON.stringify({ ...notification, jsonrpc: "2.0" }),
      }));
      return Promise.resolve();
    };
    const ctx = {
      mcpReq: {
        id: hot.id,
        method: hot.method,
        _meta: meta,
        // Keyed like the SDK's lifted envelope (the reserved `_meta` keys as they came).
        envelope: {
          [PROTOCOL_VERSION_META_KEY]: hot.meta[PROTOCOL_VERSION_META_KEY],
          [CLIENT_INFO_META_KEY]: hot.meta[CLIENT_INFO_META_KEY],
          [CLIENT_CAPABILITIES_META_KEY]: hot.meta[CLIENT_CAPABILITIES_META_KEY],
        },
        requestState: () => undefined,
        signal: abort.signal,
        send: noServerRequests,
        notify,
        log: (level: string, data: unknown, logger?: string) =>
          notify({
            method: "notifications/message",
            params: { level, data, ...(logger === undefined ? {} : { logger }) },
          }),
        elicitInput: noServerRequests,
        requestSampling: noServerRequests,
      },
      http: { authInfo: toAuthInfo(principal), req: request },
    } as unknown as ServerContext;

    const name = hot.params.name as string;
    const answered = runTool(tool, name, hot.params.arguments, ctx).then((result) => {
      const foreign = FOREIGN_RESULT_KEYS.some((key) => key in result);
      const projected = foreign ? result : projectResult(result);
      write(formatSseEvent({
        event: "message",
        data: `{"result":${encodeResult(projected, entry.serverInfo)},"jsonrpc":"2.0","id":${
          JSON.stringify(hot.id)
        }}`,
      }));
      const wasOpen = !closed;
      finish();
      if (wasOpen && stream) {
        try {
          stream.close();
        } catch {
          // the client already left
        }
      }
      return true;
    });
    // A tool that answers without waiting on I/O (a few dozen promise hops) gets one complete
    // body; a slower one streams, so keep-alive comments hold proxies open and a client that
    // leaves is noticed. (A timer here would add a turn of the event loop to every call.)
    const quick = await Promise.race([answered, afterMicrotasks(QUICK_HOPS)]);
    if (quick) {
      const bytes = encoder.encode(buffered);
      return new Response(bytes, {
        headers: { ...SSE_HEADERS, "content-length": String(bytes.byteLength) },
      });
    }
    if (!closed) timers.keepAlive = setInterval(() => write(SSE_KEEP_ALIVE), options.keepAliveMs);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        if (buffered) controller.enqueue(encoder.encode(buffered));
        buffered = "";
        stream = controller;
        if (closed) controller.close();
      },
      cancel() {
        onLeave();
      },
    });
    return new Response(body, { headers: SSE_HEADERS });
  }

  return {
    serve(request, parsedBody, principal) {
      const hot = hotRequest(request, parsedBody);
      if (!hot) return undefined;
      return (async () => {
        const entry = await callerEntry(principal);
        if (!entry) return await options.sdkFetch(request, parsedBody, principal);
        // The server identity comes with the first tools/list answer, so that runs first.
        const json = entry.listJson ?? await listJson(entry, request, hot, principal);
        if (hot.method === "tools/list") {
          return entry.listHead === undefined
            ? await options.sdkFetch(request, parsedBody, principal)
            : respondList(hot.id, entry.listHead);
        }
        const tool = entry.tools.get(hot.params.name as string);
        if (!tool || !tool.enabled || tool.scopeChallenge || json === undefined) {
          return await options.sdkFetch(request, parsedBody, principal);
        }
        return await respondCall(request, hot, tool, entry, principal);
      })();
    },
    close() {
      for (const abort of inFlight) abort.abort(new DOMException("Server closing", "AbortError"));
      inFlight.clear();
      callers.clear();
    },
  };
}
