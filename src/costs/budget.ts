/**
 * Where cost confirmations and daily spend are kept: the estimated cost of every run the server
 * submitted for a caller, summed per UTC day, and the one-time nonces of redeemed confirm tokens.
 * {@linkcode SpendLedger} keeps them in process (a restart starts the day's count again); with
 * `--redis-url` the cluster shares one ledger in Redis (`redis_ledger.ts`), so a budget and a
 * token's single use hold across instances. fal's own usage report (`get_usage`) stays the record
 * of what was billed.
 *
 * @module
 */

/** A charge taken against a caller's day, as returned by {@linkcode CostLedger.charge}. */
export interface Charge {
  /** The caller (principal id). */
  owner: string;
  /** The UTC day it counts on (`YYYY-MM-DD`). */
  day: string;
  /** Estimated US dollars. */
  usd: number;
}

/** The outcome of {@linkcode CostLedger.charge}. */
export type ChargeOutcome =
  | { kind: "charged"; charge: Charge }
  | { kind: "over_budget"; spentUsd: number };

/** Daily spend per caller and the single use of confirm tokens. */
export interface CostLedger {
  /** What `owner` spent today (estimated US dollars). */
  spent(owner: string): Promise<number>;
  /**
   * Adds `usd` to today's spend of `owner`, atomically, unless that would take it past
   * `limitUsd` (no limit when undefined): then nothing is added and the spend so far is told.
   */
  charge(owner: string, usd: number, limitUsd: number | undefined): Promise<ChargeOutcome>;
  /** Takes a charge back (the run it paid for was not submitted after all). */
  refund(charge: Charge): Promise<void>;
  /**
   * Marks a confirm token's nonce used, for `ttlSeconds`; `false` when it already was (the
   * token was redeemed before, here or on another instance).
   */
  claimOnce(nonce: string, ttlSeconds: number): Promise<boolean>;
}

/** The UTC day of `date`, `YYYY-MM-DD`. */
export function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The in-process ledger (one instance, or no Redis). */
export class SpendLedger implements CostLedger {
  readonly #days = new Map<string, { day: string; usd: number }>();
  readonly #used = new Map<string, number>();
  readonly #now: () => Date;

  /** A ledger; `now` is the clock (for tests). */
  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
  }

  #spentOn(owner: string, day: string): number {
    const entry = this.#days.get(owner);
    return entry && entry.day === day ? entry.usd : 0;
  }

  /** What `owner` spent today (estimated US dollars). */
  spent(owner: string): Promise<number> {
    return Promise.resolve(this.#spentOn(owner, utcDay(this.#now())));
  }

  /** Adds `usd` to today's spend of `owner` unless that goes past `limitUsd`. */
  charge(owner: string, usd: number, limitUsd: number | undefined): Promise<ChargeOutcome> {
    const day = utcDay(this.#now());
    const spent = this.#spentOn(owner, day);
    if (limitUsd !== undefined && spent + usd > limitUsd) {
      return Promise.resolve({ kind: "over_budget", spentUsd: spent });
    }
    this.#days.set(owner, { day, usd: spent + usd });
    // Yesterday's entries of other owners are dropped as the day turns, so the map stays small.
    if (this.#days.size > 10_000) {
      for (const [key, value] of this.#days) if (value.day !== day) this.#days.delete(key);
    }
    return Promise.resolve({ kind: "charged", charge: { owner, day, usd } });
  }

  /** Takes a charge back (only while its day lasts). */
  refund(charge: Charge): Promise<void> {
    const entry = this.#days.get(charge.owner);
    if (entry && entry.day === charge.day) entry.usd = Math.max(0, entry.usd - charge.usd);
    return Promise.resolve();
  }

  /** Marks `nonce` used for `ttlSeconds`; `false` when it already was. */
  claimOnce(nonce: string, ttlSeconds: number): Promise<boolean> {
    const now = this.#now().getTime();
    for (const [key, expires] of this.#used) if (expires < now) this.#used.delete(key);
    if (this.#used.has(nonce)) return Promise.resolve(false);
    this.#used.set(nonce, now + ttlSeconds * 1000);
    return Promise.resolve(true);
  }
}
