/**
 * A real `redis-server` for tests: started on a free loopback port with an append-only file in
 * a temporary folder, stopped (and its folder removed) by whoever started it.
 *
 * @module
 */

import { createClient } from "@redis/client";
import type { RedisClient } from "../../src/jobs/redis_store.ts";

/** A running redis-server. */
export interface TestRedis {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Kills the server (SIGKILL when `hard`), keeping its data folder. */
  kill(hard?: boolean): Promise<void>;
  /** Starts it again on the same port and folder (its AOF is replayed). */
  restart(): Promise<void>;
  /** A new connected client (the caller closes it). */
  client(): Promise<RedisClient>;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Starts redis-server with `--appendonly yes` on a free port; waits until it answers PING. */
export async function startRedis(): Promise<TestRedis> {
  const dir = await Deno.makeTempDir({ prefix: "fal-mcp-redis-" });
  const port = freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: Deno.ChildProcess | undefined;

  const launch = async () => {
    child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--dir",
        dir,
        "--protected-mode",
        "no",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    for (let attempt = 0; attempt < 200; attempt++) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        await conn.write(new TextEncoder().encode("PING\r\n"));
        const buffer = new Uint8Array(64);
        const n = await conn.read(buffer);
        conn.close();
        const reply = new TextDecoder().decode(buffer.subarray(0, n ?? 0));
        if (reply.startsWith("+PONG")) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`redis-server did not answer on port ${port}`);
  };

  const kill = async (hard = false) => {
    if (!child) return;
    const running = child;
    child = undefined;
    try {
      running.kill(hard ? "SIGKILL" : "SIGTERM");
    } catch {
      // already gone
    }
    await running.status;
  };

  await launch();
  return {
    url,
    port,
    kill,
    restart: launch,
    async client() {
      const client = createClient({ url }) as unknown as RedisClient;
      client.on("error", () => {});
      await client.connect();
      return client;
    },
    async stop() {
      await kill();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
