/**
 * Who is calling: the identity the HTTP layer established for a request. It carries no secret
 * in its `id` (tokens and keys are hashed), so it is safe to log, to key rate limits and to bind
 * sessions to.
 *
 * @module
 */

import type { AuthInfo } from "@modelcontextprotocol/server";
import { createHash } from "node:crypto";

/** The caller of one HTTP request. */
export interface Principal {
  /** Stable, non-secret id: `token:<hash>`, `oauth:<subject>`, `anonymous`. */
  id: string;
  /** How it was established. */
  kind: "token" | "oauth" | "anonymous";
  /** OAuth scopes, when known. */
  scopes: string[];
  /** The caller's own fal key (bring-your-own-key mode). Never logged. */
  falKey?: string | undefined;
  /** The raw credential, for the SDK's `AuthInfo` (never logged). */
  token?: string | undefined;
  /** Expiry of the credential (seconds since epoch), when known. */
  expiresAt?: number | undefined;
  /** OAuth client id, when known. */
  clientId?: string | undefined;
}

/** The principal of a request nobody authenticated (auth off). */
export const ANONYMOUS: Principal = { id: "anonymous", kind: "anonymous", scopes: [] };

/** A short, non-reversible fingerprint of a secret, for ids and logs. */
export function fingerprint(secret: string): string {
  return createHash("sha256").update(secret).digest("hex").slice(0, 16);
}

/**
 * The principal a session or job belongs to: with bring-your-own-key, the fal key decides
 * (so two callers with one token but different keys never share), else the principal id.
 */
export function ownerKey(principal: Principal): string {
  return principal.falKey ? `${principal.id}|fal:${fingerprint(principal.falKey)}` : principal.id;
}

/** The SDK's `AuthInfo` for a principal (passed through to handlers and the factory). */
export function toAuthInfo(principal: Principal): AuthInfo {
  const info: AuthInfo = {
    token: principal.token ?? "",
    clientId: principal.clientId ?? principal.id,
    scopes: principal.scopes,
    extra: { principal },
  };
  if (principal.expiresAt !== undefined) info.expiresAt = principal.expiresAt;
  return info;
}

/** The principal carried by an `AuthInfo` made with {@linkcode toAuthInfo}. */
export function fromAuthInfo(info: AuthInfo | undefined): Principal {
  const principal = info?.extra?.principal as Principal | undefined;
  return principal ?? ANONYMOUS;
}
