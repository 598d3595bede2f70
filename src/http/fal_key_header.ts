/**
 * Reading a caller's own fal key (bring-your-own-key mode): `X-Fal-Key: <key>`, or
 * `Authorization: Key <key>` (fal's own scheme) when the Authorization header is not taken by a
 * bearer token.
 *
 * @module
 */

/** The fal key a request carries, if any. */
export function falKeyFrom(request: Request): string | undefined {
  const header = request.headers.get("x-fal-key")?.trim();
  if (header) return header;
  const authorization = request.headers.get("authorization")?.trim();
  const match = authorization ? /^Key\s+(\S+)$/i.exec(authorization) : null;
  return match?.[1];
}
