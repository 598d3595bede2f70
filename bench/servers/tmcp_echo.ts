/**
 * The comparison server: tmcp's echo tool over its HTTP transport (one server, the fastest
 * TypeScript MCP server in published benchmarks), served by `Deno.serve` on 127.0.0.1.
 * Prints its port on stdout. Benchmark-only: nothing in `src/` imports it.
 *
 * @module
 */

import { McpServer } from "npm:tmcp@1.20.0";
import { HttpTransport } from "npm:@tmcp/transport-http@0.9.0";
import { ZodJsonSchemaAdapter } from "npm:@tmcp/adapter-zod@0.1.7";
import { z } from "zod";

const server = new McpServer({ name: "echo", version: "1.0.0", description: "echo" }, {
  adapter: new ZodJsonSchemaAdapter(),
  capabilities: { tools: { listChanged: true } },
});
server.tool({
  name: "echo",
  description: "Echoes its text",
  schema: z.object({ text: z.string() }),
}, ({ text }) => ({ content: [{ type: "text", text }] }));

const transport = new HttpTransport(server, { path: "/mcp" });
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(port),
}, async (request) => (await transport.respond(request)) ?? new Response(null, { status: 404 }));
