/**
 * Static bearer tokens: kept only as SHA-256 digests in memory and compared in constant time,
 * so neither a memory dump nor response timing gives a token away.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

/** A set of accepted bearer tokens. */
export class BearerTokens {
  readonly #digests: Buffer[];

  /** Keeps the digests of `tokens` (the tokens themselves are not kept). */
  constructor(tokens: readonly string[]) {
    this.#digests = tokens.map(digest);
  }

  /** Whether any token is configured. */
  get enabled(): boolean {
    return this.#digests.length > 0;
  }

  /** Whether `token` is one of the accepted tokens (every digest is compared, always). */
  matches(token: string): boolean {
    const presented = digest(token);
    let found = false;
    for (const known of this.#digests) found = timingSafeEqual(presented, known) || found;
    return found;
  }
}
