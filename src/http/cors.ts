/**
 * CORS for browser-based MCP clients: preflight allowing the MCP headers, and `Mcp-Session-Id`
 * exposed on responses. Applied only to requests whose Origin already passed the guard.
 *
 * @module
 */

const ALLOW_HEADERS = [
  "authorization",
  "content-type",
  "last-event-id",
  "mcp-protocol-version",
  "mcp-session-id",
  "mcp-method",
  "mcp-name",
].join(", ");
const EXPOSE_HEADERS = "mcp-session-id, mcp-protocol-version, www-authenticate";

/** The answer to a CORS preflight (`OPTIONS`) from an allowed origin. */
export function preflightResponse(request: Request): Response {
  const origin = request.headers.get("origin");
  const headers = new Headers({
    "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
    "access-control-allow-headers": ALLOW_HEADERS,
    "access-control-max-age": "600",
  });
  if (origin) {
    headers.set("access-control-allow-origin", origin);
    headers.set("vary", "origin");
  }
  return new Response(null, { status: 204, headers });
}

/** Adds CORS headers to a response for a request that carried an (allowed) Origin. */
export function withCors(request: Request, response: Response): Response {
  const origin = request.headers.get("origin");
  if (!origin) return response;
  try {
    response.headers.set("access-control-allow-origin", origin);
    response.headers.set("access-control-expose-headers", EXPOSE_HEADERS);
    response.headers.append("vary", "origin");
    return response;
  } catch {
    // Immutable headers (a Response we did not build): copy it.
    const headers = new Headers(response.headers);
    headers.set("access-control-allow-origin", origin);
    headers.set("access-control-expose-headers", EXPOSE_HEADERS);
    headers.append("vary", "origin");
    return new Response(response.body, { status: response.status, headers });
  }
}
