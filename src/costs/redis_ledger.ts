/**
 * The cluster's cost ledger in Redis (`--redis-url`): every instance counts a caller's daily
 * spend in the same key and redeems a confirm token's nonce in the same set, so a budget holds
 * across instances and a token issued by one instance is redeemed once on any.
 *
 * Keys (under the cluster's prefix, `fal-mcp:` by default):
 * - `spend:<YYYY-MM-DD>:<owner>`: the estimated US dollars `owner` spent that UTC day, a float
 *   raised with `INCRBYFLOAT` inside one Lua script that first compares against the budget (so
 *   two instances cannot both take the last dollar), expiring an hour after the day ends;
 * - `confirm:<nonce>`: set with `SET NX EX` when a confirm token is redeemed, for as long as the
 *   token is valid; a second `SET NX` of the same nonce fails, anywhere.
 *
 * @example
 * ```ts ignore
 * import { createClient } from "@redis/client";
 * import { RedisCostLedger } from "./redis_ledger.ts";
 *
 * const client = createClient({ url: "redis://127.0.0.1:6379" });
 * await client.connect();
 * const ledger = new RedisCostLedger(client);
 * const outcome = await ledger.charge("token:ab12", 0.42, 5);
 * ```
 *
 * @module
 */

import { FalMcpError, JsonRpcCode } from "../errors.ts";
import { DEFAULT_REDIS_PREFIX, type RedisClient } from "../jobs/redis_store.ts";
import { type Charge, type ChargeOutcome, type CostLedger, utcDay } from "./budget.ts";

/**
 * KEYS: the day's spend key. ARGV: amount, limit ("" for none), expiry (unix seconds).
 * Returns {1, total} when charged, {0, spent} when the charge would pass the limit.
 */
const CHARGE_SCRIPT = `
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if ARGV[2] ~= '' and spent + amount > tonumber(ARGV[2]) then
  return {0, tostring(spent)}
end
local total = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
redis.call('EXPIREAT', KEYS[1], ARGV[3])
return {1, total}`;

/** KEYS: the day's spend key. ARGV: amount. Lowers it, never below zero. */
const REFUND_SCRIPT = `
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
if spent <= 0 then return 0 end
local amount = math.min(spent, tonumber(ARGV[1]))
redis.call('INCRBYFLOAT', KEYS[1], tostring(-amount))
return 1`;

/** Options for {@linkcode RedisCostLedger}. */
export interface RedisCostLedgerOptions {
  /** Key prefix (default `fal-mcp:`), the cluster's. */
  prefix?: string;
  /** Clock, for tests. */
  now?: () => Date;
}

/** Redis failures become one clear, retryable error; nothing was charged or redeemed. */
async function guarded<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new FalMcpError(
      `Cannot ${what}: Redis is unreachable (${reason}). Nothing was run or charged; try again ` +
        "in a few seconds (the server reconnects by itself)",
      { status: 503, code: JsonRpcCode.InternalError, cause: error },
    );
  }
}

/** Daily spend and confirm-token nonces shared by every instance on one Redis. */
export class RedisCostLedger implements CostLedger {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #now: () => Date;

  /** A ledger on a connected client (closed by its owner, not here). */
  constructor(client: RedisClient, options: RedisCostLedgerOptions = {}) {
    this.#client = client;
    this.#prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    this.#now = options.now ?? (() => new Date());
  }

  #spendKey(owner: string, day: string): string {
    return `${this.#prefix}spend:${day}:${owner}`;
  }

  /** What `owner` spent today (estimated US dollars), counted on every instance. */
  spent(owner: string): Promise<number> {
    return guarded("read today's spend", async () => {
      const value = await this.#client.get(this.#spendKey(owner, utcDay(this.#now())));
      return value === null ? 0 : Number(value);
    });
  }

  /** Adds `usd` to today's spend of `owner` unless that goes past `limitUsd`, atomically. */
  charge(owner: string, usd: number, limitUsd: number | undefined): Promise<ChargeOutcome> {
    return guarded("count the run against today's budget", async () => {
      const now = this.#now();
      const day = utcDay(now);
      // The key lives until an hour after the day's end (UTC), then Redis drops it.
      const dayEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
      const reply = await this.#client.eval(CHARGE_SCRIPT, {
        keys: [this.#spendKey(owner, day)],
        arguments: [
          String(usd),
          limitUsd === undefined ? "" : String(limitUsd),
          String(Math.floor(dayEnd / 1000) + 3600),
        ],
      }) as [number, string];
      if (Number(reply[0]) !== 1) return { kind: "over_budget", spentUsd: Number(reply[1]) };
      return { kind: "charged", charge: { owner, day, usd } };
    });
  }

  /** Takes a charge back from the day it was taken on. */
  async refund(charge: Charge): Promise<void> {
    await guarded("refund a charge", () =>
      this.#client.eval(REFUND_SCRIPT, {
        keys: [this.#spendKey(charge.owner, charge.day)],
        arguments: [String(charge.usd)],
      }));
  }

  /** `SET confirm:<nonce> NX EX ttl`: `true` only for the first redemption on any instance. */
  claimOnce(nonce: string, ttlSeconds: number): Promise<boolean> {
    return guarded("redeem the confirm token", async () => {
      const reply = await this.#client.set(`${this.#prefix}confirm:${nonce}`, "1", {
        NX: true,
        EX: Math.max(1, Math.ceil(ttlSeconds)),
      });
      return reply === "OK";
    });
  }
}
