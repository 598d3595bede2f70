/**
 * HTTP error responses with a JSON-RPC error body, the shape MCP clients read on every
 * transport: `{"jsonrpc":"2.0","error":{"code","message"},"id":null}`.
 *
 * @module
 */

/** A JSON-RPC error response with an HTTP status. */
export function jsonRpcErrorResponse(
  status: number,
  code: number,
  message: string,
  headers?: HeadersInit,
): Response {
  const body = JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null });
  const init = new Headers(headers);
  init.set("content-type", "application/json");
  return new Response(body, { status, headers: init });
}
