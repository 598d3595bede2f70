/**
 * The stdio cold-start reference: a minimal official SDK v2 stdio server with one echo tool.
 *
 * @module
 */

import { McpServer } from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import { z } from "zod";

const input = z.object({ text: z.string() });

serveStdio(() => {
  const server = new McpServer({ name: "echo", version: "1.0.0" });
  server.registerTool(
    "echo",
    { description: "Echoes its text", inputSchema: input },
    ({ text }) => ({ content: [{ type: "text", text }] }),
  );
  return server;
}, { legacy: "serve" });
