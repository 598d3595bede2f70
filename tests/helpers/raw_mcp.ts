/**
 * Raw HTTP helpers for MCP tests: build 2025-era and 2026-07-28 requests by hand, so tests can
 * assert exact status codes and bodies.
 *
 * @module
 */

/** The current stateless protocol revision. */
export const MODERN = "2026-07-28";

/** Headers every MCP POST carries. */
export const POST_HEADERS: Record<string, string> = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
};

/** The `_meta` envelope of a 2026-07-28 request. */
export function modernMeta(version = MODERN): Record<string, unknown> {
  return {
    "io.modelcontextprotocol/protocolVersion": version,
    "io.modelcontextprotocol/clientInfo": { name: "raw-test", version: "1.0.0" },
    "io.modelcontextprotocol/clientCapabilities": {},
  };
}

/** A 2026-07-28 JSON-RPC request and its headers. */
export function modernRequest(
  method: string,
  params: Record<string, unknown> = {},
  id: number | string = 1,
): { body: Record<string, unknown>; headers: Record<string, string> } {
  const headers: Record<string, string> = {
    ...POST_HEADERS,
    "mcp-protocol-version": MODERN,
    "mcp-method": method,
  };
  if (typeof params.name === "string") headers["mcp-name"] = params.name;
  return {
    body: { jsonrpc: "2.0", id, method, params: { ...params, _meta: modernMeta() } },
    headers,
  };
}

/** A 2025-era `initialize` request body. */
export function initializeBody(protocolVersion = "2025-06-18", id: number | string = 1) {
  return {
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: {
      protocolVersion,
      capabilities: {},
      clientInfo: { name: "raw-test", version: "1.0.0" },
    },
  };
}

/** POSTs a JSON body (or raw string) to `url`. */
export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = POST_HEADERS,
): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Reads a JSON-RPC message from a JSON or single-response SSE body. */
export async function readMessage<T = Record<string, unknown>>(response: Response): Promise<T> {
  const text = await response.text();
  if (response.headers.get("content-type")?.includes("text/event-stream")) {
    const data = text.split("\n").filter((l) => l.startsWith("data: ") && l.length > 6);
    const last = data.map((l) => JSON.parse(l.slice(6))).filter((m) => "id" in m).pop();
    if (!last) throw new Error(`no response in SSE body: ${text}`);
    return last;
  }
  return JSON.parse(text);
}

/** Opens a 2025-era session; answers its id. */
export async function openSession(mcpUrl: string, protocolVersion = "2025-06-18"): Promise<string> {
  const response = await post(mcpUrl, initializeBody(protocolVersion));
  const sessionId = response.headers.get("mcp-session-id");
  await response.body?.cancel();
  if (response.status !== 200 || !sessionId) {
    throw new Error(`initialize answered ${response.status} without a session`);
  }
  const initialized = await post(
    mcpUrl,
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { ...POST_HEADERS, "mcp-session-id": sessionId, "mcp-protocol-version": protocolVersion },
  );
  await initialized.body?.cancel();
  return sessionId;
}

/** Session headers for follow-up requests. */
export function sessionHeaders(
  sessionId: string,
  protocolVersion = "2025-06-18",
): Record<string, string> {
  return { ...POST_HEADERS, "mcp-session-id": sessionId, "mcp-protocol-version": protocolVersion };
}
