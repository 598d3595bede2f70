/**
 * Who is calling: the principal every job, task, resource and session belongs to. The HTTP layer
 * decides it once per request (a bearer token's identity, an OAuth issuer and subject, a
 * bring-your-own-key caller's key hash, or the one local owner); stdio callers are the local
 * owner. It travels as one value down to the tools, which store and look up everything by its
 * `id`. The `id` carries no secret (tokens and keys are hashed), so it is safe to log, to key
 * rate limits and to store. Through the SDK it rides on `AuthInfo` ({@linkcode toAuthInfo},
 * {@linkcode fromAuthInfo}), so the factory and every handler see the same value.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { AuthInfo } from "./sdk_types.ts";

/** How a principal was established. */
export type PrincipalKind = "local" | "token" | "oauth" | "byok";

/** The caller of one request. */
export interface Principal {
  /**
   * Stable, non-secret id that owns jobs: `local`, `token:<hash>`, `oauth:<issuer>|<subject>`,
   * `byok:<key hash>`.
   */
  id: string;
  /** How it was established. */
  kind: PrincipalKind;
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

/**
 * The one local owner: stdio callers, and HTTP callers of a server that checks nobody (no
 * tokens, no OAuth) and who bring no fal key of their own.
 */
export const LOCAL: Principal = { id: "local", kind: "local", scopes: [] };

/** A short, non-reversible fingerprint of a secret, for ids and logs. */
export function fingerprint(secret: string): string {
  return createHash("sha256").update(secret).digest("hex").slice(0, 16);
}

/**
 * The non-secret id of a fal key (32 hex digits of its SHA-256). Job records name the key that
 * submitted them by it, and earlier versions used it as the job owner.
 */
export function falKeyId(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 32);
}

/** The principal of a bring-your-own-key caller that presents nothing but its fal key. */
export function byokPrincipal(falKey: string): Principal {
  return { id: `byok:${falKeyId(falKey)}`, kind: "byok", scopes: [], falKey };
}

/** The principal of a request nobody authenticated (auth off): the one local owner. */
export const ANONYMOUS: Principal = LOCAL;

/**
 * The key a session is bound to: with bring-your-own-key, the fal key counts too (a session's
 * server holds a fal client of the key that opened it), else the principal id.
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
  return principal ?? LOCAL;
}
