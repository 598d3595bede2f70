/**
 * Names for the MCP SDK types that appear in this package's public API, so its documentation can
 * link them.
 *
 * @module
 */

import type {
  AuthInfo as SdkAuthInfo,
  CallToolResult as SdkCallToolResult,
  InputRequiredResult as SdkInputRequiredResult,
  McpServer as SdkMcpServer,
  ServerContext as SdkServerContext,
} from "@modelcontextprotocol/server";

/** The MCP server of `@modelcontextprotocol/server` (what `createServer` builds). */
export type McpServer = SdkMcpServer;

/** Validated authentication information the SDK passes to handlers (`@modelcontextprotocol/server`). */
export type AuthInfo = SdkAuthInfo;

/** A `tools/call` result (`@modelcontextprotocol/server`). */
export type CallToolResult = SdkCallToolResult;

/** A multi-round-trip `input_required` result (`@modelcontextprotocol/server`). */
export type InputRequiredResult = SdkInputRequiredResult;

/** The context the SDK hands every request handler (`@modelcontextprotocol/server`). */
export type ServerContext = SdkServerContext;
