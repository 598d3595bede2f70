/**
 * The studio at `/studio`: one static page (the bundled front end) and its JSON API. The HTTP
 * app authenticates API calls exactly like `/mcp` and hands over the caller's principal; this
 * module turns it into the caller's `ServerDeps` and answers.
 *
 * @module
 */

import type { ServerDeps } from "../context.ts";
import type { Principal } from "../principal.ts";
import { STUDIO_HTML } from "../ui/assets.ts";
import { createStudioApi } from "./api.ts";

/** Serves the studio page (no caller) or its API (an authenticated caller). */
export type StudioHandler = (
  request: Request,
  path: string,
  caller?: Principal,
) => Promise<Response>;

/** Content-Security-Policy of the studio page: its own script, media from anywhere https. */
const STUDIO_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' https: http: data: blob:",
  "media-src 'self' https: http: data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Builds the studio over the per-caller deps factory the MCP endpoints use. */
export function createStudio(depsFor: (principal: Principal) => ServerDeps): StudioHandler {
  const api = createStudioApi();
  return async (request, path, caller) => {
    if (caller) return await api(request, path, depsFor(caller));
    if ((path === "/studio" || path === "/studio/") && ["GET", "HEAD"].includes(request.method)) {
      return new Response(request.method === "HEAD" ? null : STUDIO_HTML, {
        headers: {
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-cache",
          "content-security-policy": STUDIO_CSP,
          "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer",
        },
      });
    }
    return Response.json({ error: { message: `Not Found: ${path} (the studio is at /studio)` } }, {
      status: 404,
    });
  };
}
