/**
 * HTTP error responses with a JSON-RPC error body, the shape MCP clients read on every
 * transport: `{"jsonrpc":"2.0","error":{"code","message"},"id":…}`. The id is the request's own
 * when it is known (the body was parsed and held one request), else `null`.
 *
 * @module
 */

/** A JSON-RPC request id, or `null` when unknown. */
export type JsonRpcId = string | number | null;

/** The id of a parsed body holding one JSON-RPC request, else `null`. */
export function requestIdOf(body: unknown): JsonRpcId {
  if (!body || typeof body !== "object" || Array.isArray(body)) return null;
  const id = (body as { id?: unknown }).id;
  return typeof id === "string" || (typeof id === "number" && Number.isFinite(id)) ? id : null;
}

/** A JSON-RPC error response with an HTTP status. */
export function jsonRpcErrorResponse(
  status: number,
  code: number,
  message: string,
  headers?: HeadersInit,
  id: JsonRpcId = null,
): Response {
  const body = JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id });
  const init = new Headers(headers);
  init.set("content-type", "application/json");
  return new Response(body, { status, headers: init });
}
