/**
 * What one call of an endpoint costs, from fal's estimate API (its historical average per
 * call), cached per endpoint for a while: the studio's spend and each job's cost use it.
 *
 * @module
 */

import type { FalClient } from "../fal/client.ts";
import { estimateCost } from "../fal/platform.ts";

/** An amount of money. */
export interface Amount {
  /** The amount. */
  amount: number;
  /** ISO currency, e.g. `USD`. */
  currency: string;
}

interface Entry {
  at: number;
  value: Promise<Amount | undefined>;
}

/** A cache of per-call costs (prices are public: one cache serves every caller). */
export class CallCosts {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;

  /** Creates a cache whose entries live `ttlMs` (default 10 minutes). */
  constructor(ttlMs = 600_000) {
    this.#ttlMs = ttlMs;
  }

  /** The cost of one call of `endpointId`, or `undefined` when fal cannot tell it. */
  perCall(fal: FalClient, endpointId: string): Promise<Amount | undefined> {
    const now = Date.now();
    const hit = this.#entries.get(endpointId);
    if (hit && now - hit.at < this.#ttlMs) return hit.value;
    const value = estimateCost(fal, endpointId, 1, "calls")
      .then((e) => ({ amount: e.total_cost, currency: e.currency }))
      .catch(() => {
        // Not cached: a failure (no key, fal down) is retried next time.
        this.#entries.delete(endpointId);
        return undefined;
      });
    if (this.#entries.size >= 500) this.#entries.clear();
    this.#entries.set(endpointId, { at: now, value });
    return value;
  }
}
