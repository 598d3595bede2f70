/**
 * The principal of an HTTP request (see `../principal.ts` for what it is), and how it rides on
 * the SDK's `AuthInfo` to the factory and the handlers.
 *
 * @module
 */

import type { AuthInfo } from "@modelcontextprotocol/server";
import { fingerprint, LOCAL, type Principal } from "../principal.ts";

export { byokPrincipal, falKeyId, fingerprint, LOCAL, type Principal } from "../principal.ts";

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
