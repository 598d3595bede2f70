/**
 * Where the job machinery of this process lives: the embedded store of `--job-store` for a single
 * instance, or, with `--redis-url`, the cluster's Redis (shared store, leases, change channel).
 *
 * @module
 */

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { JobCoordinator } from "../jobs/coordinator.ts";
import { openJobStore } from "../jobs/open_store.ts";
import type { JobStore } from "../jobs/types.ts";
import { openRedisCluster, type RedisCluster } from "./redis_cluster.ts";
import type { RedisClient } from "../jobs/redis_store.ts";

/** The store and, in a cluster, the coordinator a `JobManager` runs on. */
export interface JobBackend {
  /** Where job records live. */
  store: JobStore;
  /** Leases and change notifications, in a cluster. */
  coordinator: JobCoordinator | undefined;
  /** The cluster membership (its connections serve sessions too), when on Redis. */
  cluster: RedisCluster | undefined;
  /** The cluster's Redis connection and key prefix, for other shared state; none alone. */
  redis: { client: RedisClient; prefix: string } | undefined;
  /** Readiness facts for `/ready`; `not_ready` (a reason) when Redis is unreachable. */
  readiness(): Record<string, unknown> & { not_ready?: string | undefined };
  /** Closes what the store does not (the cluster's connections); call after the store closed. */
  close(): Promise<void>;
}

/**
 * Opens the job backend the configuration asks for.
 *
 * @throws {Error} when the store cannot be opened or Redis cannot be reached at start.
 */
export async function openJobBackend(
  config: Pick<Config, "jobStore" | "stateDir" | "redisUrl">,
  logger: Logger,
): Promise<JobBackend> {
  if (config.redisUrl === undefined) {
    return {
      store: openJobStore(config.jobStore, config.stateDir, logger),
      coordinator: undefined,
      cluster: undefined,
      redis: undefined,
      readiness: () => ({}),
      close: () => Promise.resolve(),
    };
  }
  const cluster = await openRedisCluster({ url: config.redisUrl, logger });
  return {
    store: cluster.store,
    coordinator: cluster.coordinator,
    cluster,
    redis: { client: cluster.client, prefix: cluster.prefix },
    readiness: () => {
      const reachable = cluster.ready();
      return reachable ? { redis: "reachable" } : {
        redis: "unreachable",
        not_ready: "the job store (Redis) is unreachable; jobs cannot be read or submitted",
      };
    },
    close: () => cluster.close(),
  };
}
