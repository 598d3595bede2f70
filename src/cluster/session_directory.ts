/**
 * The cluster's directory of 2025-era sessions, in Redis: what an instance needs to serve a
 * session it did not open (who owns it, the client's `initialize`), a per-principal count of live
 * sessions (the cap counted cluster-wide), the in-flight calls of each stream (so an instance can
 * finish a call whose instance died), and the "session ended" channel.
 *
 * Keys (under the cluster prefix):
 * - `session:<id>`: the record (JSON), expiring after the idle TTL, refreshed on use;
 * - `principal-sessions:<principal>`: a sorted set of session ids scored by their expiry (ms);
 * - `session-call:<id>:<streamId>`: the call a stream answers, until its response is logged;
 * - `instance:<id>` (written by the cluster membership): an instance's liveness.
 *
 * @module
 */

import type { RedisClient } from "../jobs/redis_store.ts";
import type { Logger } from "../log.ts";
import { sessionLogKeys } from "./session_log.ts";

/** What the cluster knows of a session. */
export interface SessionRecord {
  /** `ownerKey` of the principal that opened it: only the same caller may use it. */
  owner: string;
  /** The principal's id (the per-principal cap counts by it). */
  principal: string;
  /** The client's `initialize` request, replayed to rebuild the session's server elsewhere. */
  initialize: unknown;
  /** The protocol version the client asked for. */
  protocolVersion: string;
  /** When it was opened (ms since epoch). */
  createdAt: number;
}

/** A call a stream of a session answers, recorded while it is in flight. */
export interface CallRecord {
  /** The JSON-RPC request (its id is the one the answer must carry). */
  request: { id: string | number; method: string; params?: unknown };
  /** The instance serving it. */
  instance: string;
  /** The fal job it waits on. */
  jobId: string;
}

/** Options for {@linkcode RedisSessionDirectory}. */
export interface RedisSessionDirectoryOptions {
  /** The command connection. */
  client: RedisClient;
  /** A subscriber connection (shared). */
  subscriber: RedisClient;
  /** Key and channel prefix. */
  prefix: string;
  /** A session idle this long is forgotten. */
  ttlMs: number;
  /** This instance's id. */
  instanceId: string;
  /** Logger. */
  logger: Logger;
}

/** KEYS: principal set, session key. ARGV: now, expiresAt, max (0: none), id, record, ttl. */
const CREATE_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local max = tonumber(ARGV[3])
if max > 0 and redis.call('ZCARD', KEYS[1]) >= max then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[6])
return 1`;

/** KEYS: session, log, log bytes, principal set. ARGV: ttl, expiresAt, id. */
const TOUCH_SCRIPT = `
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], 'XX', ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[4], ARGV[1])
return 1`;

/**
 * KEYS: call record. ARGV: liveness key prefix, this instance.
 * Takes a call over when the instance serving it is no longer alive; answers the record.
 */
const CLAIM_SCRIPT = `
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local call = cjson.decode(raw)
if call.instance == ARGV[2] then return false end
if redis.call('EXISTS', ARGV[1] .. call.instance) == 1 then return false end
call.instance = ARGV[2]
local updated = cjson.encode(call)
redis.call('SET', KEYS[1], updated, 'KEEPTTL')
return raw`;

/** How long a call record outlives its last update (a call that long is abandoned). */
const CALL_TTL_MS = 24 * 60 * 60 * 1000;

/** The sessions of a cluster, in Redis. */
export class RedisSessionDirectory {
  readonly #client: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #instanceId: string;
  readonly #log: Logger;
  readonly #ended = new Set<(id: string) => void>();
  #listening: Promise<void> | undefined;

  /** A directory over the cluster's connections. */
  constructor(options: RedisSessionDirectoryOptions) {
    this.#client = options.client;
    this.#subscriber = options.subscriber;
    this.#prefix = options.prefix;
    this.#ttlMs = options.ttlMs;
    this.#instanceId = options.instanceId;
    this.#log = options.logger;
  }

  /** This instance's id. */
  get instanceId(): string {
    return this.#instanceId;
  }

  /** The key prefix. */
  get prefix(): string {
    return this.#prefix;
  }

  /** The command connection. */
  get client(): RedisClient {
    return this.#client;
  }

  /** The idle TTL of sessions. */
  get ttlMs(): number {
    return this.#ttlMs;
  }

  #key(id: string): string {
    return `${this.#prefix}session:${id}`;
  }

  #principalKey(principal: string): string {
    return `${this.#prefix}principal-sessions:${principal}`;
  }

  /**
   * Records a new session unless its principal already holds `maxPerPrincipal` live ones
   * (cluster-wide); answers whether it was recorded.
   */
  async create(id: string, record: SessionRecord, maxPerPrincipal: number): Promise<boolean> {
    const now = Date.now();
    const created = await this.#client.eval(CREATE_SCRIPT, {
      keys: [this.#principalKey(record.principal), this.#key(id)],
      arguments: [
        String(now),
        String(now + this.#ttlMs),
        String(Number.isFinite(maxPerPrincipal) ? maxPerPrincipal : 0),
        id,
        JSON.stringify(record),
        String(this.#ttlMs),
      ],
    });
    return Number(created) === 1;
  }

  /** The record of a live session. */
  async get(id: string): Promise<SessionRecord | undefined> {
    const raw = await this.#client.get(this.#key(id));
    return raw ? JSON.parse(String(raw)) as SessionRecord : undefined;
  }

  /** Keeps a session (and its log) alive for another TTL; answers false when it is gone. */
  async touch(id: string, principal: string): Promise<boolean> {
    const keys = sessionLogKeys(this.#prefix, id);
    const kept = await this.#client.eval(TOUCH_SCRIPT, {
      keys: [this.#key(id), keys.log, keys.bytes, this.#principalKey(principal)],
      arguments: [String(this.#ttlMs), String(Date.now() + this.#ttlMs), id],
    });
    return Number(kept) === 1;
  }

  /** Ends a session everywhere: forgets it and its log, and tells every instance. */
  async end(id: string, principal: string): Promise<void> {
    const keys = sessionLogKeys(this.#prefix, id);
    await this.#client.del([this.#key(id), keys.log, keys.bytes]);
    await this.#client.zRem(this.#principalKey(principal), id);
    await this.#client.publish(`${this.#prefix}session-ended`, id);
  }

  /** Calls `listener` with the id of every session ended anywhere; answers an unsubscribe. */
  async onEnded(listener: (id: string) => void): Promise<() => void> {
    this.#ended.add(listener);
    this.#listening ??= this.#subscriber.subscribe(`${this.#prefix}session-ended`, (id: string) => {
      for (const each of [...this.#ended]) each(id);
    });
    await this.#listening;
    return () => this.#ended.delete(listener);
  }

  /** Calls `listener` with each entry id appended to a session's log; answers an unsubscribe. */
  async onAppended(id: string, listener: (entryId: string) => void): Promise<() => Promise<void>> {
    const channel = sessionLogKeys(this.#prefix, id).channel;
    await this.#subscriber.subscribe(channel, listener);
    return async () => {
      await this.#subscriber.unsubscribe(channel, listener).catch(() => {});
    };
  }

  /** Records the call stream `streamId` of session `id` answers (it waits on a job). */
  async noteCall(id: string, streamId: string, call: CallRecord): Promise<void> {
    const key = `${sessionLogKeys(this.#prefix, id).calls}${streamId}`;
    await this.#client.set(key, JSON.stringify(call), { PX: CALL_TTL_MS });
  }

  /** The call a stream answers, while it is in flight. */
  async call(id: string, streamId: string): Promise<CallRecord | undefined> {
    const raw = await this.#client.get(`${sessionLogKeys(this.#prefix, id).calls}${streamId}`);
    return raw ? JSON.parse(String(raw)) as CallRecord : undefined;
  }

  /**
   * Takes over the call a stream answers when the instance serving it is no longer alive;
   * answers the call (now this instance's) or undefined (none, or its instance lives).
   */
  async claimCall(id: string, streamId: string): Promise<CallRecord | undefined> {
    const raw = await this.#client.eval(CLAIM_SCRIPT, {
      keys: [`${sessionLogKeys(this.#prefix, id).calls}${streamId}`],
      arguments: [`${this.#prefix}instance:`, this.#instanceId],
    });
    if (!raw) return undefined;
    this.#log.info("taking over a call whose instance is gone", { session_id: id });
    return JSON.parse(String(raw)) as CallRecord;
  }
}
