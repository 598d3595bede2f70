/**
 * The OAuth 2.0 Protected Resource Metadata answer (RFC 9728) in OAuth mode: the document at the
 * bare well-known path and at its path insertion for `/mcp`, cacheable and readable from any
 * origin (browsers discover the authorization server with it before they hold a token).
 *
 * @example
 * ```ts
 * import { oauthMetadataRoute } from "./oauth_metadata.ts";
 *
 * const metadata = oauthMetadataRoute("https://mcp.example.com/mcp", {
 *   issuer: "https://auth.example.com",
 *   scopes: ["mcp"],
 * });
 * metadata.paths; // ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]
 * ```
 *
 * @module
 */

import { protectedResourceMetadata, protectedResourceMetadataPaths } from "./oauth.ts";

/** Where the metadata is served and how it is answered. */
export interface OAuthMetadataRoute {
  /** The well-known paths answered. */
  readonly paths: readonly string[];
  /** The answer (the same document, whatever the method or path among `paths`). */
  serve(request: Request): Response;
}

/** The metadata route for the resource at `resourceUrl` (from configuration, never a request). */
export function oauthMetadataRoute(
  resourceUrl: string,
  authorization: { issuer: string; scopes: string[] },
): OAuthMetadataRoute {
  const body = JSON.stringify(protectedResourceMetadata(resourceUrl, authorization));
  return {
    paths: protectedResourceMetadataPaths(),
    serve: () =>
      new Response(body, {
        headers: {
          "content-type": "application/json",
          "cache-control": "max-age=300",
          "access-control-allow-origin": "*",
        },
      }),
  };
}
