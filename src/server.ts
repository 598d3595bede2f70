/**
 * The one factory: builds an MCP server with every tool, resource and prompt. Every transport
 * (stdio, legacy SSE, Streamable HTTP in both eras) calls it, so they can never drift apart.
 *
 * @module
 */

import { McpServer } from "@modelcontextprotocol/server";
import type { ServerDeps } from "./context.ts";
import { registerCreateMediaPrompt } from "./prompts/create_media.ts";
import { registerGetModelSchema } from "./tools/get_model_schema.ts";
import { registerRunModel } from "./tools/run_model.ts";
import { registerSearchModels } from "./tools/search_models.ts";
import { SERVER_NAME, VERSION } from "./version.ts";

export type { ServerDeps } from "./context.ts";

const INSTRUCTIONS = `fal-mcp gives you the fal.ai catalogue of generative media models.
Typical flow: search_models to find an endpoint_id, get_model_schema to see its inputs,
run_model to generate. Results are URLs (resource links); download or show them as needed.`;

/** Builds a fresh MCP server with every fal tool registered. */
export function createServer(deps: ServerDeps): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, title: "fal.ai MCP server", version: VERSION },
    { capabilities: { tools: {}, prompts: {}, logging: {} }, instructions: INSTRUCTIONS },
  );
  registerSearchModels(server, deps);
  registerGetModelSchema(server, deps);
  registerRunModel(server, deps);
  registerCreateMediaPrompt(server);
  return server;
}
