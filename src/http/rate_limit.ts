/**
 * Per-principal rate limiting: a token bucket per caller, refilled continuously, so a burst up
 * to the per-minute limit is fine and a flood gets 429 with `Retry-After`.
 *
 * @module
 */

interface Bucket {
  tokens: number;
  updated: number;
}

/** The outcome of {@linkcode RateLimiter.take}. */
export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

/** What the HTTP app asks of a rate limiter (in process, or counted in a cluster's Redis). */
export interface RateLimit {
  /** Takes one request from `key`'s bucket. */
  take(key: string): RateDecision | Promise<RateDecision>;
}

/** Token buckets keyed by principal id. */
export class RateLimiter implements RateLimit {
  readonly #perMinute: number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  /** Allows `perMinute` requests per minute per key (0 disables limiting). */
  constructor(perMinute: number, now: () => number = Date.now) {
    this.#perMinute = perMinute;
    this.#now = now;
  }

  /** Takes one request from `key`'s bucket. */
  take(key: string): RateDecision {
    if (this.#perMinute <= 0) return { ok: true };
    const now = this.#now();
    const ratePerMs = this.#perMinute / 60_000;
    const bucket = this.#buckets.get(key) ?? { tokens: this.#perMinute, updated: now };
    bucket.tokens = Math.min(this.#perMinute, bucket.tokens + (now - bucket.updated) * ratePerMs);
    bucket.updated = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    if (this.#buckets.size > 10_000) this.#prune(now, ratePerMs);
    return {
      ok: false,
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerMs / 1000)),
    };
  }

  /** Forgets buckets that have refilled completely (they hold no state worth keeping). */
  #prune(now: number, ratePerMs: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.updated) * ratePerMs >= this.#perMinute) {
        this.#buckets.delete(key);
      }
    }
  }
}
