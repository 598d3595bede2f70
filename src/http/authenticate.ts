/**
 * Who may call the MCP endpoints, and as whom: OAuth 2.1 access tokens (JWT, verified against
 * the issuer's keys), static bearer tokens, bring-your-own-key callers, or nobody checked
 * (loopback development). The answer is the request's {@linkcode Principal}, decided once here.
 *
 * - OAuth: `oauth:<issuer>|<subject>`.
 * - Bearer tokens: `token:<hash of the token>`.
 * - BYOK without tokens or OAuth: `byok:<hash of the fal key>`; the key may come as
 *   `X-Fal-Key`, `Authorization: Key …` or `Authorization: Bearer …` (the header fal's own
 *   hosted MCP server documents). A caller without a key is the local owner.
 * - Nothing configured: the one local owner.
 *
 * With tokens or OAuth and BYOK together, the token decides the principal and the fal key rides
 * along on it (to pay for the caller's jobs).
 *
 * @module
 */

import type { BearerTokens } from "./bearer_tokens.ts";
import { falKeyFrom } from "./fal_key_header.ts";
import { jsonRpcErrorResponse } from "../protocol/jsonrpc_error.ts";
import type { OAuthVerifier } from "./oauth.ts";
import { byokPrincipal, fingerprint, LOCAL, type Principal } from "../principal.ts";

/** Establishes the caller of a request, or answers the 401/403 to send instead. */
export type Authenticator = (request: Request) => Promise<Principal | Response>;

/** Options for {@linkcode createAuthenticator}. */
export interface AuthenticatorOptions {
  /** Static bearer tokens (may be empty). */
  tokens: BearerTokens;
  /** OAuth verifier, in resource-server mode. */
  oauth?: OAuthVerifier | undefined;
  /** Read each caller's own fal key. */
  byok: boolean;
  /** The public URL of `/mcp` (the OAuth resource), from configuration. */
  resourceUrl: string;
}

const REALM = 'Bearer realm="fal-mcp"';

function bearerToken(request: Request): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization")?.trim() ?? "");
  return match?.[1];
}

function tokenChallenge(message: string, invalid: boolean): Response {
  const header = invalid ? `${REALM}, error="invalid_token"` : REALM;
  return jsonRpcErrorResponse(401, -32001, message, { "www-authenticate": header });
}

/** Builds the authenticator for the configured mode. */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const withKey = (principal: Principal, request: Request): Principal => {
    if (!options.byok) return principal;
    const falKey = falKeyFrom(request);
    return falKey ? { ...principal, falKey } : principal;
  };

  if (options.oauth) {
    const oauth = options.oauth;
    return async (request) => {
      const result = await oauth.verify(request, options.resourceUrl);
      if (!result.ok) return result.response;
      return withKey({
        id: `oauth:${result.issuer}|${result.subject}`,
        kind: "oauth",
        scopes: result.scopes,
        token: result.token,
        expiresAt: result.expiresAt,
        clientId: result.clientId,
      }, request);
    };
  }

  if (options.tokens.enabled) {
    return (request) => {
      const token = bearerToken(request);
      if (token === undefined) {
        return Promise.resolve(tokenChallenge(
          "Unauthorized: send the access token as `Authorization: Bearer <token>`",
          false,
        ));
      }
      if (!options.tokens.matches(token)) {
        return Promise.resolve(tokenChallenge("Unauthorized: the bearer token is not valid", true));
      }
      return Promise.resolve(withKey({
        id: `token:${fingerprint(token)}`,
        kind: "token",
        scopes: [],
        token,
      }, request));
    };
  }

  if (options.byok) {
    // Nothing else identifies the caller: the fal key is the principal.
    return (request) => {
      const falKey = falKeyFrom(request) ?? bearerToken(request);
      return Promise.resolve(falKey ? byokPrincipal(falKey) : LOCAL);
    };
  }

  return () => Promise.resolve(LOCAL);
}
