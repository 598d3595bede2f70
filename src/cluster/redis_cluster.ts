/**
 * Running as one instance of a cluster on Redis (`--redis-url`): the shared job store, a lease per
 * followed job (`SET <prefix>lease:<id> <instance> NX PX`, renewed while the follower lives) and a
 * job-updated channel (Redis pub/sub) that wakes waiters on every instance.
 *
 * @example
 * ```ts ignore
 * import { openRedisCluster } from "./redis_cluster.ts";
 * import { silentLogger } from "../log.ts";
 *
 * const cluster = await openRedisCluster({ url: "redis://127.0.0.1:6379", logger: silentLogger });
 * const lease = await cluster.coordinator.acquire("req-1");
 * await lease?.release();
 * await cluster.close();
 * ```
 *
 * @module
 */

import type { Logger } from "../log.ts";
import type { JobCoordinator, JobLease, JobUpdate } from "../jobs/coordinator.ts";
import { DEFAULT_REDIS_PREFIX, type RedisClient, RedisJobStore } from "../jobs/redis_store.ts";
import type { QueueStatus } from "../fal/types.ts";
import type { JobStatus } from "../jobs/types.ts";

/** Options for {@linkcode openRedisCluster}. */
export interface RedisClusterOptions {
  /** `redis://` or `rediss://` URL (may carry a password; never logged). */
  url: string;
  /** Logger. */
  logger: Logger;
  /** Key and channel prefix (default `fal-mcp:`). */
  prefix?: string;
  /** How long a lease lives without renewal (default 5000 ms); renewed every third of it. */
  leaseMs?: number;
  /** This instance's id (default: random). */
  instanceId?: string;
}

/** A connected cluster membership. */
export interface RedisCluster {
  /** This instance's id (the value of the leases it holds). */
  readonly instanceId: string;
  /** The command connection, for other state the cluster shares (cost ledger). */
  readonly client: RedisClient;
  /** The key prefix. */
  readonly prefix: string;
  /** The shared job store. */
  readonly store: RedisJobStore;
  /** Leases and change notifications. */
  readonly coordinator: JobCoordinator;
  /** The subscriber connection (shared; never closed by its users). */
  readonly subscriber: RedisClient;
  /** Whether Redis is reachable now (both connections ready). */
  ready(): boolean;
  /** Gives up every lease and closes the connections. */
  close(): Promise<void>;
}

const RENEW_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1]) else return 0 end`;

interface Announcement {
  from: string;
  id: string;
  status?: QueueStatus;
  created?: true;
  previous?: JobStatus;
}

/** The host and port of a Redis URL, for logs (never the password). */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

/**
 * Connects to Redis (a command connection and a subscriber connection). Reconnects by itself when
 * Redis goes away; meanwhile calls fail at once (no offline queue) with a clear error.
 *
 * @throws {Error} when Redis cannot be reached at start; the message names the host, not the
 * password.
 */
export async function openRedisCluster(options: RedisClusterOptions): Promise<RedisCluster> {
  const { logger } = options;
  const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
  const leaseMs = options.leaseMs ?? 5_000;
  const instanceId = options.instanceId ?? crypto.randomUUID();
  const where = redactRedisUrl(options.url);
  const channel = `${prefix}job-updated`;
  let connected = false;
  // Loaded only when a Redis is configured: a single instance never pays for the client.
  const { createClient } = await import("@redis/client");
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5000,
      // At start a few quick retries, then a clear error; once running, retry for ever.
      reconnectStrategy: (retries: number, cause: Error) =>
        !connected && retries >= 3 ? cause : Math.min(100 * 2 ** retries, 2000),
    },
  }) as unknown as RedisClient;
  const subscriber = client.duplicate();
  let down = false;
  for (const [name, connection] of [["commands", client], ["subscriber", subscriber]] as const) {
    connection.on("error", (error: unknown) => {
      if (!down) logger.warn("redis unreachable", { redis: where, connection: name, error });
      down = true;
    });
    connection.on("ready", () => {
      if (down) logger.info("redis reachable again", { redis: where, connection: name });
      down = false;
    });
  }
  try {
    await client.connect();
    await subscriber.connect();
    connected = true;
  } catch (error) {
    await client.destroy();
    await subscriber.destroy();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Cannot connect to Redis at ${where}: ${reason}. Check --redis-url (host, port, password, ` +
        "rediss:// for TLS) and that Redis is running",
      { cause: error },
    );
  }

  const listeners = new Set<(update: JobUpdate) => void>();
  const store = new RedisJobStore(client, { prefix });
  await subscriber.subscribe(channel, (message: string) => {
    let announcement: Announcement;
    try {
      announcement = JSON.parse(message) as Announcement;
    } catch {
      return;
    }
    if (announcement.from === instanceId || listeners.size === 0) return;
    store.get(announcement.id).then((record) => {
      if (!record) return;
      const update = {
        record,
        status: announcement.status,
        created: announcement.created === true,
        previous: announcement.previous,
      };
      for (const listener of listeners) listener(update);
    }).catch((error) => logger.warn("reading an announced job failed", { error }));
  });

  const leases = new Set<{ release(): Promise<void> }>();
  const coordinator: JobCoordinator = {
    async acquire(id: string): Promise<JobLease | undefined> {
      const key = `${prefix}lease:${id}`;
      const taken = await client.set(key, instanceId, { NX: true, PX: leaseMs });
      if (taken !== "OK") return undefined;
      const lost = new AbortController();
      let renewedAt = Date.now();
      const timer = setInterval(async () => {
        try {
          const kept = await client.eval(RENEW_SCRIPT, {
            keys: [key],
            arguments: [instanceId, String(leaseMs)],
          });
          if (Number(kept) === 1) {
            renewedAt = Date.now();
            return;
          }
          logger.warn("lost the lease of a job; another instance follows it", { job_id: id });
          lost.abort(new DOMException("lease lost", "AbortError"));
        } catch {
          if (Date.now() - renewedAt < leaseMs) return;
          logger.warn("could not renew the lease of a job; stopping to follow it", { job_id: id });
          lost.abort(new DOMException("lease expired", "AbortError"));
        }
        if (lost.signal.aborted) clearInterval(timer);
      }, Math.max(50, Math.floor(leaseMs / 3)));
      const lease = {
        signal: lost.signal,
        async release() {
          clearInterval(timer);
          if (!leases.delete(lease)) return;
          await client.eval(RELEASE_SCRIPT, { keys: [key], arguments: [instanceId] })
            .catch(() => {});
        },
      };
      leases.add(lease);
      return lease;
    },
    async publish(update: JobUpdate): Promise<void> {
      const announcement: Announcement = { from: instanceId, id: update.record.id };
      if (update.status) announcement.status = update.status;
      if (update.created) announcement.created = true;
      if (update.previous) announcement.previous = update.previous;
      await client.publish(channel, JSON.stringify(announcement));
    },
    onUpdate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };

  // This instance's liveness: other instances take over its calls once it has expired.
  const aliveKey = `${prefix}instance:${instanceId}`;
  const beat = () => client.set(aliveKey, String(Date.now()), { PX: leaseMs }).catch(() => {});
  await beat();
  const heartbeat = setInterval(beat, Math.max(50, Math.floor(leaseMs / 3)));
  Deno.unrefTimer(heartbeat);

  logger.info("cluster joined", { redis: where, instance: instanceId, lease_ms: leaseMs });
  return {
    instanceId,
    client,
    prefix,
    store,
    coordinator,
    subscriber,
    ready: () => client.isReady && subscriber.isReady,
    async close() {
      clearInterval(heartbeat);
      await client.del(aliveKey).catch(() => {});
      await Promise.allSettled([...leases].map((lease) => lease.release()));
      await store.close();
      await Promise.allSettled([subscriber.close(), client.close()]);
    },
  };
}
