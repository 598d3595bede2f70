/**
 * Names for the MCP SDK types that appear in this package's public API, so its documentation can
 * link them.
 *
 * @module
 */

import type {
  AuthInfo as SdkAuthInfo,
  McpServer as SdkMcpServer,
} from "@modelcontextprotocol/server";

/** The MCP server of `@modelcontextprotocol/server` (what `createServer` builds). */
export type McpServer = SdkMcpServer;

/** Validated authentication information the SDK passes to handlers (`@modelcontextprotocol/server`). */
export type AuthInfo = SdkAuthInfo;
