/** The package version, kept equal to `version` in deno.json (a test checks it). */
export const VERSION = "0.1.0";

/** The server name announced to MCP clients. */
export const SERVER_NAME = "fal-mcp";
