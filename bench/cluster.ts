/**
 * The cluster row: `tools/call` throughput through a plain round-robin nginx in front of several
 * fal-mcp instances sharing one Redis, against one instance on a Redis of its own, interleaved
 * like every throughput scenario. Redis and nginx are started as the cluster tests start them
 * (tests/helpers); every part listens on a free loopback port and is stopped here.
 *
 * @module
 */

import { startBalancer } from "../tests/helpers/cluster.ts";
import { startRedis, type TestRedis } from "../tests/helpers/redis_server.ts";
import { type BenchServer, startFalMcp } from "./lib/process.ts";
import { modernRequest, type Scenario } from "./throughput.ts";

/** The servers of the cluster row. */
export interface ClusterServers {
  /** One instance on its own Redis. */
  single: BenchServer;
  /** The balancer's origin. */
  balancerUrl: string;
  /** The instances behind it. */
  instances: BenchServer[];
  /** Stops nginx, the instances and both Redis servers. */
  stop(): Promise<void>;
}

/** Starts one instance on a Redis, and `size` instances on another Redis behind nginx. */
export async function startClusterServers(falUrl: string, size: number): Promise<ClusterServers> {
  const redis: TestRedis[] = [];
  const servers: BenchServer[] = [];
  let stopBalancer: (() => Promise<void>) | undefined;
  const stop = async () => {
    await stopBalancer?.();
    await Promise.allSettled(servers.map((s) => s.stop()));
    await Promise.allSettled(redis.map((r) => r.stop()));
  };
  try {
    const [own, shared] = await Promise.all([startRedis(), startRedis()]);
    redis.push(own, shared);
    const single = await startFalMcp(falUrl, ["--redis-url", own.url]);
    servers.push(single);
    const instances = await Promise.all(
      Array.from({ length: size }, () => startFalMcp(falUrl, ["--redis-url", shared.url])),
    );
    servers.push(...instances);
    const balancer = await startBalancer(instances.map((i) => i.origin));
    stopBalancer = balancer.stop;
    return { single, balancerUrl: balancer.url, instances, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The two scenarios of the row: one instance, and the balanced cluster. */
export function clusterScenarios(servers: ClusterServers): Scenario[] {
  const call = (origin: string) =>
    modernRequest(origin, "tools/call", { name: "list_jobs", arguments: {} });
  return [
    {
      name: "redis_single",
      request: call(servers.single.origin),
      expect: "No jobs.",
      pid: servers.single.pid,
    },
    {
      name: "redis_cluster",
      request: call(servers.balancerUrl),
      expect: "No jobs.",
      pid: servers.instances[0]!.pid,
      pids: servers.instances.map((i) => i.pid),
    },
  ];
}
