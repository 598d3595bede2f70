/**
 * The tools a server was built with, by name, as the SDK registered them. {@linkcode createServer}
 * records every `registerTool` here, so the fast 2026-07-28 engine can call a tool directly,
 * without a per-request server, transport or message guard.
 *
 * @module
 */

import type { McpServer, RegisteredTool } from "@modelcontextprotocol/server";

const catalogs = new WeakMap<McpServer, ReadonlyMap<string, RegisteredTool>>();

/**
 * Starts recording the tools `server` registers (call before any `registerTool`). Tools renamed
 * or removed later are not followed: the fast engine calls a recorded tool only while it is
 * still enabled and the catalog stays what `createServer` built.
 */
export function recordTools(server: McpServer): void {
  const tools = new Map<string, RegisteredTool>();
  catalogs.set(server, tools);
  const register = server.registerTool.bind(server);
  server.registerTool = ((name: string, config: never, handler: never) => {
    const tool = register(name, config, handler);
    tools.set(name, tool);
    return tool;
  }) as typeof server.registerTool;
}

/** The tools recorded for `server` by {@linkcode recordTools}, or `undefined`. */
export function toolsOf(server: McpServer): ReadonlyMap<string, RegisteredTool> | undefined {
  return catalogs.get(server);
}
