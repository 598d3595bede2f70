/**
 * The OAuth protected resource this server is, from configuration only: the resource URL
 * (RFC 9728 `resource`, and what `resource_metadata` challenges point at) and the audiences a
 * token must carry. Nothing here reads a request: a forged `Host` header or an absolute-form
 * request target can never change what tokens are accepted or what metadata says (and is
 * cached).
 *
 * @module
 */

import { ConfigError } from "../errors.ts";

/** The settings the resource is derived from. */
export interface OAuthResourceSettings {
  /** `--public-url`: the URL clients reach the server at (no trailing slash). */
  publicUrl: string | undefined;
  /** `--oauth-audience`: the `aud` tokens must carry. */
  audience: string | undefined;
}

/**
 * The public URL of `/mcp`: `<public-url>/mcp`, else the configured audience when it is an
 * http(s) URL.
 *
 * @throws {ConfigError} when neither gives one: OAuth mode cannot run without it.
 */
export function oauthResourceUrl(settings: OAuthResourceSettings): string {
  if (settings.publicUrl !== undefined) return `${settings.publicUrl}/mcp`;
  const audience = settings.audience;
  if (audience !== undefined && /^https?:\/\//i.test(audience) && URL.canParse(audience)) {
    return audience.replace(/\/+$/, "");
  }
  throw new ConfigError(
    audience === undefined
      ? "OAuth needs the server's public URL: set --public-url (e.g. https://mcp.example.com) " +
        "or --oauth-audience, so the accepted token audience never comes from a request's Host"
      : `OAuth needs the server's public URL: --oauth-audience "${audience}" is not an http(s) ` +
        "URL, so also set --public-url (e.g. https://mcp.example.com)",
  );
}
