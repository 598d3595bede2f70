/**
 * Quick `tools/call` on a 2025-era session: a call of a tool that only reads this server's own
 * state (annotated `readOnlyHint: true`, `openWorldHint: false`) is run directly with the
 * session's own server and answered without the SDK's session transport, protocol layer and
 * their per-message zod guards — when it completes at once (no I/O, a few dozen promise hops),
 * sends nothing to the client while it runs and answers a plain result.
 *
 * The answer is what the SDK's session transport answers: the same SSE framing and headers, the
 * priming event for 2025-11-25 clients, every event stored in the session's event store under a
 * fresh stream id (so `Last-Event-ID` resumes it exactly as an SDK-served stream), the result
 * projected by the session server's own wire codec. A call that turns out not to be quick, or
 * that notifies, logs or asks the client anything, is abandoned (its signal aborted) and
 * answered by the SDK instead, which runs the tool again: that is safe only because such a tool
 * changes nothing and reaches nothing outside the server, which is why only those tools qualify.
 * A tool handed over several times in a row is then tried only now and then.
 * Nothing per request is kept on the shared session server, so two requests never cross.
 *
 * @module
 */

import {
  type EventStore,
  isInputRequiredResult,
  type McpServer,
  type RegisteredTool,
  type ServerContext,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/server";
import { type Principal, toAuthInfo } from "../principal.ts";
import { toolsOf } from "../tool_catalog.ts";
import { afterMicrotasks, QUICK_HOPS, runCheckedTool, toolErrorResult } from "./fast_path.ts";

/** The session a quick call runs on. */
export interface QuickSession {
  /** The session id (sent back in `mcp-session-id`). */
  id: string;
  /** The session's own server (its tools, its negotiated wire codec). */
  server: McpServer;
  /** The session's event store (events are stored as the SDK stores them). */
  eventStore: EventStore;
  /** The `retry` advertised in priming events (ms). */
  retryIntervalMs: number;
}

type JsonRpcId = string | number;

interface QuickRequest {
  id: JsonRpcId;
  name: string;
  arguments: unknown;
  meta: Record<string, unknown> | undefined;
  version: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The request, when it is a `tools/call` this path may serve; else `undefined`. */
function quickRequest(request: Request, body: unknown): QuickRequest | undefined {
  if (!isObject(body) || body.jsonrpc !== "2.0" || body.method !== "tools/call") return undefined;
  const { id, params } = body;
  if (typeof id !== "string" && typeof id !== "number") return undefined;
  if (!isObject(params) || typeof params.name !== "string") return undefined;
  if (params.task !== undefined) return undefined;
  if (params.arguments !== undefined && !isObject(params.arguments)) return undefined;
  const meta = params._meta;
  if (meta !== undefined) {
    if (!isObject(meta)) return undefined;
    if (Object.keys(meta).some((key) => key.startsWith("io.modelcontextprotocol/"))) {
      return undefined;
    }
    const token = meta.progressToken;
    if (token !== undefined && typeof token !== "string" && typeof token !== "number") {
      return undefined;
    }
  }
  const headers = request.headers;
  const accept = headers.get("accept") ?? "";
  if (!accept.includes("application/json") || !accept.includes("text/event-stream")) {
    return undefined;
  }
  const version = headers.get("mcp-protocol-version");
  if (version === null || !/^202[45]-/.test(version)) return undefined;
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return undefined;
  return { id, name: params.name, arguments: params.arguments, meta, version };
}

/** Whether a tool may be run speculatively: it changes nothing and reaches nothing outside. */
function qualifies(tool: RegisteredTool | undefined): tool is RegisteredTool {
  return !!tool && tool.enabled && !tool.scopeChallenge &&
    tool.annotations?.readOnlyHint === true && tool.annotations?.openWorldHint === false;
}

/**
 * Calls of each tool handed over in a row. A tool that is never quick here (its job store does
 * I/O, as in a cluster) would otherwise run twice on every call; after a few hand-overs it is
 * only tried again now and then.
 */
const handedOver = new Map<string, number>();
const GIVE_UP_AFTER = 4;
const RETRY_EVERY = 64;

/** Whether to try `name` on the quick path this time (counts the skipped tries too). */
function worthTrying(name: string): boolean {
  const streak = handedOver.get(name) ?? 0;
  if (streak < GIVE_UP_AFTER || streak % RETRY_EVERY === 0) return true;
  handedOver.set(name, streak + 1);
  return false;
}

/** Thrown into a tool that asks for what only the SDK's session can give (then handed over). */
class HandOver extends Error {}

/** Runs a tool as the SDK's `tools/call` handler does; answers its projected result. */
async function runTool(
  server: McpServer,
  tool: RegisteredTool,
  quick: QuickRequest,
  ctx: ServerContext,
): Promise<Record<string, unknown>> {
  try {
    const result = await runCheckedTool(tool, quick.name, quick.arguments, ctx);
    if (isInputRequiredResult(result)) throw new HandOver();
    const advertised = (tool as { outputSchemaJson?: unknown }).outputSchemaJson;
    return server.server.projectCallToolResult(result as never, advertised as never) as Record<
      string,
      unknown
    >;
  } catch (error) {
    if (error instanceof HandOver) throw error;
    return toolErrorResult(error);
  }
}

const encoder = new TextEncoder();

/**
 * Serves a session's `tools/call` when it qualifies and completes at once; answers `undefined`
 * when the SDK must serve it (nothing has been sent or stored then).
 */
export async function quickSessionCall(
  session: QuickSession,
  request: Request,
  body: unknown,
  principal: Principal,
): Promise<Response | undefined> {
  const quick = quickRequest(request, body);
  if (!quick) return undefined;
  const tool = toolsOf(session.server)?.get(quick.name);
  if (!qualifies(tool) || !worthTrying(quick.name)) return undefined;

  const abort = new AbortController();
  const handOver = () => {
    abort.abort(new DOMException("Served by the session transport instead", "AbortError"));
    return Promise.reject(new HandOver());
  };
  const ctx = {
    sessionId: session.id,
    mcpReq: {
      id: quick.id,
      method: "tools/call",
      _meta: quick.meta,
      requestState: () => undefined,
      signal: abort.signal,
      send: handOver,
      notify: handOver,
      log: handOver,
      elicitInput: handOver,
      requestSampling: handOver,
    },
    http: { authInfo: toAuthInfo(principal), req: request },
  } as unknown as ServerContext;
  const run = runTool(session.server, tool, quick, ctx).catch(() => undefined);
  const result = await Promise.race([run, afterMicrotasks(QUICK_HOPS)]);
  if (!result || abort.signal.aborted) {
    abort.abort(new DOMException("Served by the session transport instead", "AbortError"));
    handedOver.set(quick.name, (handedOver.get(quick.name) ?? 0) + 1);
    return undefined;
  }
  handedOver.delete(quick.name);

  // What the SDK's session transport writes for one request on a fresh POST stream.
  const streamId = crypto.randomUUID();
  let text = "";
  if (quick.version >= "2025-11-25") {
    const priming = await session.eventStore.storeEvent(streamId, {} as never);
    text += `id: ${priming}\nretry: ${session.retryIntervalMs}\ndata: \n\n`;
  }
  const message = { result, jsonrpc: "2.0" as const, id: quick.id };
  const eventId = await session.eventStore.storeEvent(streamId, message as never);
  text += `event: message\nid: ${eventId}\ndata: ${JSON.stringify(message)}\n\n`;
  const bytes = encoder.encode(text);
  return new Response(bytes, {
    status: 200,
    headers: {
      "Content-Type": "text/event-stream",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
      "mcp-session-id": session.id,
      "content-length": String(bytes.byteLength),
    },
  });
}
