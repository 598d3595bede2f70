/**
 * API key checks of the fake: `Authorization: Key <key>` on every inference and storage call.
 * Keys are never echoed back or recorded outside the jobs they own.
 *
 * @module
 */

import { detail } from "./http.ts";

/** Result of {@linkcode authenticate}. */
export type AuthResult =
  | { ok: true; key: string }
  | { ok: false; reason: "missing" | "invalid" };

/** Checks the `Authorization` header; `keys` restricts the accepted keys when given. */
export function authenticate(req: Request, keys?: ReadonlySet<string>): AuthResult {
  const header = req.headers.get("authorization");
  if (header === null || header.trim() === "") return { ok: false, reason: "missing" };
  const match = /^Key\s+(\S.*)$/i.exec(header.trim());
  if (!match) return { ok: false, reason: "invalid" };
  const key = match[1]!.trim();
  if (keys && !keys.has(key)) return { ok: false, reason: "invalid" };
  return { ok: true, key };
}

/** The message of an auth failure (never contains the key). */
export function authMessage(reason: "missing" | "invalid"): string {
  return reason === "missing"
    ? "Missing Authorization header. Send 'Authorization: Key <FAL_KEY>'."
    : "No user found for Key ID and Secret";
}

/** 401 in the inference hosts' shape (`{"detail": …}`). */
export function unauthorized(reason: "missing" | "invalid"): Response {
  return detail(401, authMessage(reason));
}
