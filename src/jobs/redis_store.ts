/**
 * The shared job store of a cluster: job records in Redis, so that every instance behind a load
 * balancer lists, reads, waits on and cancels the same jobs.
 *
 * Keys (under a prefix, `fal-mcp:` by default):
 * - `job:<id>`: the record as JSON;
 * - `idx:<id>`: `<owner>\n<createdAt>`, the record's place in its owner's index;
 * - `owner:<owner>`: a sorted set (all scores 0) of `<createdAt>\0<id>`, so that a reverse
 *   lexical range is the owner's jobs newest first, ties broken by id (byte order of UTF-8 is code
 *   point order, as the other stores compare);
 * - `unfinished`: a set of the ids not in a final status.
 *
 * One `put` is one Lua script, so a record and its indexes never disagree. Durability is Redis's:
 * run it with `appendonly yes` and `appendfsync everysec` (a crash of the Redis machine loses at
 * most the last second) or `appendfsync always` (nothing acknowledged is lost). The keys span
 * slots, so this needs a single Redis primary (with replicas if wanted), not Redis Cluster.
 *
 * @example
 * ```ts ignore
 * import { createClient } from "@redis/client";
 * import { RedisJobStore } from "./redis_store.ts";
 *
 * const client = createClient({ url: "redis://127.0.0.1:6379" });
 * await client.connect();
 * const store = new RedisJobStore(client, { closeClient: true });
 * const page = await store.list({ owner: "local", limit: 20 });
 * await store.close();
 * ```
 *
 * @module
 */

import type { RedisClientType } from "@redis/client";
import { FalMcpError, JsonRpcCode } from "../errors.ts";
import { checkLimit, checkRecord, closedStoreError, decodeCursor, encodeCursor } from "./query.ts";
import {
  isFinal,
  type JobPage,
  type JobQuery,
  type JobRecord,
  type JobStore,
  type OwnerRewrite,
} from "./types.ts";

/** A connected node-redis client (any module set). */
// deno-lint-ignore no-explicit-any
export type RedisClient = RedisClientType<any, any, any, any, any>;

/** Options for {@linkcode RedisJobStore}. */
export interface RedisJobStoreOptions {
  /** Key prefix (default `fal-mcp:`); several deployments may share one Redis by prefix. */
  prefix?: string;
  /** Whether {@linkcode RedisJobStore.close} also closes the client (default false). */
  closeClient?: boolean;
}

/** The default key prefix. */
export const DEFAULT_REDIS_PREFIX = "fal-mcp:";

/** How many index entries one listing round reads while filtering. */
const LIST_BATCH = 200;

/**
 * KEYS: job, idx, unfinished. ARGV: record JSON, owner, createdAt, id, final ("1"/"0"), prefix.
 * Moves the index entry when the owner or createdAt changed.
 */
const PUT_SCRIPT = `
local old = redis.call('GET', KEYS[2])
local member = ARGV[3] .. '\\0' .. ARGV[4]
if old then
  local nl = string.find(old, '\\n', 1, true)
  local oldOwner = string.sub(old, 1, nl - 1)
  local oldCreated = string.sub(old, nl + 1)
  if oldOwner ~= ARGV[2] or oldCreated ~= ARGV[3] then
    redis.call('ZREM', ARGV[6] .. 'owner:' .. oldOwner, oldCreated .. '\\0' .. ARGV[4])
  end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2] .. '\\n' .. ARGV[3])
redis.call('ZADD', ARGV[6] .. 'owner:' .. ARGV[2], 0, member)
if ARGV[5] == '1' then
  redis.call('SREM', KEYS[3], ARGV[4])
else
  redis.call('SADD', KEYS[3], ARGV[4])
end
return 1
`;

/**
 * KEYS: job, idx, unfinished (of the record to delete). ARGV: id, prefix. Deletes the record and
 * its index entries.
 */
const REMOVE_BODY = `
local old = redis.call('GET', KEYS[2])
if old then
  local nl = string.find(old, '\\n', 1, true)
  redis.call('ZREM', ARGV[2] .. 'owner:' .. string.sub(old, 1, nl - 1),
    string.sub(old, nl + 1) .. '\\0' .. ARGV[1])
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
`;

const REMOVE_SCRIPT = `${REMOVE_BODY}return 1\n`;

/**
 * KEYS: job, idx, unfinished (of the new record), then job, idx (of the previous one). ARGV: as
 * {@linkcode PUT_SCRIPT}, then the previous id. Deletes the previous record and writes the new one
 * in one step.
 */
const REPLACE_SCRIPT = `
local prevKeys = { KEYS[4], KEYS[5], KEYS[3] }
local prevArgs = { ARGV[7], ARGV[6] }
local function removePrevious(KEYS, ARGV)
${REMOVE_BODY}
end
removePrevious(prevKeys, prevArgs)
${PUT_SCRIPT}`;

/** Redis failures become one clear, retryable error; validation errors pass unchanged. */
async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof FalMcpError || error instanceof TypeError) throw error;
    if (error instanceof Error && /closed/.test(error.message) && /job store/.test(error.message)) {
      throw error;
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new FalMcpError(
      `The job store (Redis) is unreachable: ${reason}. Nothing was lost; try again in a few ` +
        "seconds (the server reconnects by itself)",
      { status: 503, code: JsonRpcCode.InternalError, cause: error },
    );
  }
}

function parse(text: string | null | undefined): JobRecord | undefined {
  if (text === null || text === undefined) return undefined;
  return JSON.parse(text) as JobRecord;
}

/** A {@linkcode JobStore} in Redis, shared by every instance of a cluster. */
export class RedisJobStore implements JobStore {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #closeClient: boolean;
  #closed = false;

  /** Wraps a connected client. */
  constructor(client: RedisClient, options: RedisJobStoreOptions = {}) {
    this.#client = client;
    this.#prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
    this.#closeClient = options.closeClient ?? false;
  }

  #key(...parts: string[]): string {
    return this.#prefix + parts.join(":");
  }

  #open(): void {
    if (this.#closed) throw closedStoreError();
  }

  /** Inserts or replaces the record; resolves once Redis has applied it (durable per its AOF). */
  put(job: JobRecord): Promise<void> {
    return guarded(async () => {
      this.#open();
      checkRecord(job);
      await this.#client.eval(PUT_SCRIPT, {
        keys: [this.#key("job", job.id), this.#key("idx", job.id), this.#key("unfinished")],
        arguments: [
          JSON.stringify(job),
          job.owner,
          job.createdAt,
          job.id,
          isFinal(job.status) ? "1" : "0",
          this.#prefix,
        ],
      });
    });
  }

  /** Writes `job` and deletes the record `previousId`, in one script (one atomic step). */
  replace(previousId: string, job: JobRecord): Promise<void> {
    return guarded(async () => {
      this.#open();
      checkRecord(job);
      await this.#client.eval(REPLACE_SCRIPT, {
        keys: [
          this.#key("job", job.id),
          this.#key("idx", job.id),
          this.#key("unfinished"),
          this.#key("job", previousId),
          this.#key("idx", previousId),
        ],
        arguments: [
          JSON.stringify(job),
          job.owner,
          job.createdAt,
          job.id,
          isFinal(job.status) ? "1" : "0",
          this.#prefix,
          previousId,
        ],
      });
    });
  }

  /** Deletes the record with this id and its index entries, if any. */
  remove(id: string): Promise<void> {
    return guarded(async () => {
      this.#open();
      await this.#client.eval(REMOVE_SCRIPT, {
        keys: [this.#key("job", id), this.#key("idx", id), this.#key("unfinished")],
        arguments: [id, this.#prefix],
      });
    });
  }

  /** Proves Redis accepts a write now (a short-lived key); rejects with the reason otherwise. */
  probe(): Promise<void> {
    return guarded(async () => {
      this.#open();
      await this.#client.set(this.#key("probe"), new Date().toISOString(), {
        PX: 60_000,
      });
    });
  }

  /** The record with this id, if any. */
  get(id: string): Promise<JobRecord | undefined> {
    return guarded(async () => {
      this.#open();
      const text = await this.#client.get(this.#key("job", id));
      return parse(text === null ? null : String(text));
    });
  }

  /**
   * One page of the owner's records, newest first by `(createdAt, id)`.
   *
   * @throws {FalMcpError} status 400 when the cursor or limit is invalid.
   */
  list(query: JobQuery): Promise<JobPage> {
    return guarded(async () => {
      this.#open();
      const limit = checkLimit(query.limit);
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      const index = this.#key("owner", query.owner);
      let max = after === undefined ? "+" : `(${after.createdAt}\0${after.id}`;
      const jobs: JobRecord[] = [];
      let more = false;
      while (!more) {
        const members = (await this.#client.zRange(index, max, "-", {
          BY: "LEX",
          REV: true,
          LIMIT: { offset: 0, count: LIST_BATCH },
        })).map(String);
        if (members.length === 0) break;
        const ids = members.map((member) => member.slice(member.indexOf("\0") + 1));
        const texts = await this.#client.mGet(ids.map((id) => this.#key("job", id)));
        for (const text of texts) {
          const record = parse(text === null ? null : String(text));
          if (record === undefined || record.owner !== query.owner) continue;
          if (query.endpointId !== undefined && record.endpointId !== query.endpointId) continue;
          if (query.statuses !== undefined && !query.statuses.includes(record.status)) continue;
          if (jobs.length === limit) {
            more = true;
            break;
          }
          jobs.push(record);
        }
        if (members.length < LIST_BATCH) break;
        max = `(${members.at(-1)}`;
      }
      const page: JobPage = { jobs };
      const last = jobs.at(-1);
      if (more && last !== undefined) {
        page.nextCursor = encodeCursor({ createdAt: last.createdAt, id: last.id });
      }
      return page;
    });
  }

  /** Every record not in a final status, oldest first. */
  unfinished(): Promise<JobRecord[]> {
    return guarded(async () => {
      this.#open();
      const ids = [...await this.#client.sMembers(this.#key("unfinished"))].map(String);
      if (ids.length === 0) return [];
      const texts = await this.#client.mGet(ids.map((id) => this.#key("job", id)));
      const records = texts.map((text) => parse(text === null ? null : String(text))).filter((
        r,
      ): r is JobRecord => r !== undefined && !isFinal(r.status));
      return records.sort((a, b) =>
        a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1
      );
    });
  }

  /** Rewrites the owner of every record `rewrite` maps; answers how many changed. */
  rewriteOwners(rewrite: OwnerRewrite): Promise<number> {
    return guarded(async () => {
      this.#open();
      let changed = 0;
      const pattern = this.#key("job", "*");
      for await (const keys of this.#client.scanIterator({ MATCH: pattern, COUNT: 200 })) {
        for (const key of keys) {
          const text = await this.#client.get(String(key));
          const record = parse(text === null ? null : String(text));
          if (record === undefined) continue;
          const next = rewrite(record.owner);
          if (next === undefined) continue;
          await this.put({ ...record, owner: next.owner, keyId: next.keyId });
          changed++;
        }
      }
      return changed;
    });
  }

  /** Releases the store (and the client when it was handed over). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#closeClient) await this.#client.close().catch(() => {});
  }
}
