/**
 * A real cluster for tests: one `redis-server`, N fal-mcp processes sharing it, and a plain
 * round-robin nginx (no stickiness, `proxy_buffering off`, HTTP/1.1 upstream keep-alive) in
 * front, every part on a free loopback port, all stopped by {@linkcode TestCluster.stop}.
 *
 * @module
 */

import { join } from "node:path";
import type { FakeFal } from "../fake_fal/server.ts";
import { mainArgs } from "./process.ts";
import { startRedis, type TestRedis } from "./redis_server.ts";
import { falEnv } from "./scenario.ts";
import { waitFor } from "./wait_for.ts";

/** One fal-mcp process of the cluster. */
export interface TestInstance {
  /** Its own origin (bypassing nginx). */
  readonly url: string;
  /** Its cluster instance id (the value of the leases it holds). */
  readonly instanceId: string;
  /** Every JSON log line it wrote so far. */
  readonly logs: Record<string, unknown>[];
  /** Whether it was killed. */
  killed: boolean;
  /** kill -9. */
  kill(): Promise<void>;
}

/** A running cluster. */
export interface TestCluster {
  /** nginx's origin: what clients use. */
  readonly url: string;
  /** The shared Redis. */
  readonly redis: TestRedis;
  /** The instances, in upstream order. */
  readonly instances: TestInstance[];
  /** Stops nginx, the instances and Redis. */
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function startInstance(
  fake: FakeFal,
  redisUrl: string,
  args: string[],
): Promise<TestInstance> {
  const child = new Deno.Command(Deno.execPath(), {
    args: mainArgs(
      "--transport",
      "http",
      "--port",
      "0",
      "--redis-url",
      redisUrl,
      "--log-level",
      "debug",
      ...args,
    ),
    env: { ...falEnv(fake), NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  let ended = false;
  (async () => {
    let buffer = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        try {
          logs.push(JSON.parse(line));
        } catch {
          logs.push({ msg: line });
        }
      }
    }
  })().catch(() => {}).finally(() => ended = true);
  await waitFor(
    () => ended || logs.some((r) => r.msg === "listening"),
    "an instance to listen",
  );
  const listening = logs.find((r) => r.msg === "listening");
  const joined = logs.find((r) => r.msg === "cluster joined");
  if (!listening || !joined) {
    throw new Error(`instance did not start:\n${logs.map((r) => JSON.stringify(r)).join("\n")}`);
  }
  const instance: TestInstance = {
    url: String(listening.url),
    instanceId: String(joined.instance),
    logs,
    killed: false,
    async kill() {
      if (instance.killed) return;
      instance.killed = true;
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
    },
  };
  return instance;
}

function nginxConfig(dir: string, port: number, upstreams: string[]): string {
  const servers = upstreams.map((url) =>
    `    server ${new URL(url).host} max_fails=1 fail_timeout=2s;`
  )
    .join("\n");
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream fal_mcp {
${servers}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://fal_mcp;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 300s;
    }
  }
}
`;
}

/** A running nginx balancer. */
export interface TestBalancer {
  /** Its origin. */
  readonly url: string;
  /** Stops nginx and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts a plain round-robin nginx (no stickiness) in front of `upstreams` on `port` (a free
 * one when absent); waits until `/health` answers through it.
 */
export async function startBalancer(upstreams: string[], port = freePort()): Promise<TestBalancer> {
  const dir = await Deno.makeTempDir({ prefix: "fal-mcp-nginx-" });
  const url = `http://127.0.0.1:${port}`;
  let nginx: Deno.ChildProcess | undefined;
  const stop = async () => {
    try {
      nginx?.kill("SIGTERM");
      await nginx?.status;
    } catch {
      // already gone
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    const config = join(dir, "nginx.conf");
    await Deno.writeTextFile(config, nginxConfig(dir, port, upstreams));
    const binary = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((path) => {
      try {
        return Deno.statSync(path).isFile;
      } catch {
        return false;
      }
    }) ?? "nginx";
    nginx = new Deno.Command(binary, {
      args: ["-p", dir, "-c", config, "-e", join(dir, "error.log")],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let up = false;
    for (let attempt = 0; attempt < 200 && !up; attempt++) {
      up = await fetch(`${url}/health`).then(async (r) => {
        await r.body?.cancel();
        return r.ok;
      }).catch(() => false);
      if (!up) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (!up) throw new Error("nginx did not come up");
    return { url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Starts Redis, `size` instances (with `args`) on it and nginx in front. */
export async function startCluster(
  fake: FakeFal,
  options: { size?: number; args?: (balancerUrl: string) => string[] } = {},
): Promise<TestCluster> {
  const redis = await startRedis();
  const instances: TestInstance[] = [];
  let balancer: TestBalancer | undefined;
  const stop = async () => {
    await balancer?.stop();
    await Promise.all(instances.map((instance) => instance.kill()));
    await redis.stop();
  };
  try {
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < (options.size ?? 3); i++) {
      instances.push(await startInstance(fake, redis.url, options.args?.(url) ?? []));
    }
    balancer = await startBalancer(instances.map((i) => i.url), port);
    return { url, redis, instances, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
