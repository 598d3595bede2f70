/**
 * The comparison server: the official SDK v2 echo server, served statelessly by
 * `createMcpHandler` (a fresh server per request, as the SDK intends) with `Deno.serve` on
 * 127.0.0.1. Prints its port on stdout.
 *
 * @module
 */

import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";

const input = z.object({ text: z.string() });

function echoServer(): McpServer {
  const server = new McpServer({ name: "echo", version: "1.0.0" });
  server.registerTool(
    "echo",
    { description: "Echoes its text", inputSchema: input },
    ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  return server;
}

const handler = createMcpHandler(echoServer, { legacy: "stateless" });
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(port),
}, (request) => handler.fetch(request));
