/**
 * The per-principal rate limit counted across a cluster: one token bucket per caller in Redis
 * (`<prefix>rate:<principal>`, a hash of tokens and last refill), refilled continuously and taken
 * from by one Lua script per check, on Redis's clock, so every instance draws from the same
 * bucket. When Redis cannot answer, the instance's own bucket decides (the limit then holds per
 * instance until Redis is back): a limiter must not turn a Redis outage into refusing everyone.
 *
 * @module
 */

import type { RedisClient } from "../jobs/redis_store.ts";
import { type RateDecision, RateLimiter } from "../http/rate_limit.ts";

/**
 * KEYS: bucket. ARGV: per minute. Answers -1 when a token was taken, else the milliseconds until
 * the next one.
 */
const TAKE_SCRIPT = `
local perMinute = tonumber(ARGV[1])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local bucket = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(bucket[1]) or perMinute
local updated = tonumber(bucket[2]) or now
local rate = perMinute / 60000
tokens = math.min(perMinute, tokens + math.max(0, now - updated) * rate)
local taken = tokens >= 1
if taken then tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(now))
redis.call('PEXPIRE', KEYS[1], 60000)
if taken then return -1 end
return math.ceil((1 - tokens) / rate)`;

/** A rate limiter whose buckets live in the cluster's Redis. */
export class RedisRateLimiter {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #perMinute: number;
  readonly #fallback: RateLimiter;

  /** Allows `perMinute` requests per minute per principal across the cluster (0: no limit). */
  constructor(client: RedisClient, prefix: string, perMinute: number) {
    this.#client = client;
    this.#prefix = prefix;
    this.#perMinute = perMinute;
    this.#fallback = new RateLimiter(perMinute);
  }

  /** Takes one request from `key`'s bucket. */
  async take(key: string): Promise<RateDecision> {
    if (this.#perMinute <= 0) return { ok: true };
    try {
      const wait = Number(
        await this.#client.eval(TAKE_SCRIPT, {
          keys: [`${this.#prefix}rate:${key}`],
          arguments: [String(this.#perMinute)],
        }),
      );
      if (wait < 0) return { ok: true };
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };
    } catch {
      return this.#fallback.take(key);
    }
  }
}
