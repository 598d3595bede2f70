/**
 * stdio: newline-delimited JSON-RPC on stdin/stdout through the SDK's `serveStdio`, which pins
 * one server from the factory per connection and serves 2025-era and 2026-07-28 clients alike.
 * stdout carries nothing but protocol; the process learns that the client left when stdin ends.
 *
 * @module
 */

import process from "node:process";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import type { Logger } from "../log.ts";
import type { McpServer } from "@modelcontextprotocol/server";
import { LineCappedStdioTransport } from "./stdio_lines.ts";
import { StdioTaskListen } from "./stdio_task_listen.ts";
import type { TaskSource } from "./task_feed.ts";

/** A running stdio connection. */
export interface StdioConnection {
  /** Resolves when the client closed stdin (or the connection was closed). */
  readonly ended: Promise<void>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/**
 * Serves MCP over this process's stdin/stdout. With `tasks`, 2026-07-28 clients that declare the
 * tasks extension can listen for `notifications/tasks` (`subscriptions/listen` with `taskIds`).
 */
export function startStdio(
  factory: () => McpServer | Promise<McpServer>,
  logger: Logger,
  tasks?: TaskSource,
): StdioConnection {
  if (Deno.stdin.isTerminal()) {
    logger.info(
      "fal-mcp is waiting for an MCP client on stdin; it is launched by an MCP client, " +
        "not used interactively (see --help, or use --transport http)",
    );
  }
  const handle = serveStdio(factory, {
    legacy: "serve",
    transport: new LineCappedStdioTransport({
      onRefused: (reason) => logger.warn("stdio line refused", { reason }),
      ...(tasks ? { hooks: new StdioTaskListen(tasks) } : {}),
    }),
    onerror: (error) => logger.warn("stdio transport error", { error: error.message }),
  });
  const { promise: ended, resolve } = Promise.withResolvers<void>();
  process.stdin.once("end", () => {
    logger.info("stdin closed by the client");
    resolve();
  });
  process.stdin.once("close", () => resolve());
  return {
    ended,
    async close() {
      await handle.close();
      resolve();
    },
  };
}
