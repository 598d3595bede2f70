/**
 * Names for the MCP SDK types that appear in this package's public API, so its documentation can
 * link them.
 *
 * @module
 */

import type {
  AuthInfo as SdkAuthInfo,
  CallToolResult as SdkCallToolResult,
  EventStore as SdkEventStore,
  InputRequiredResult as SdkInputRequiredResult,
  JSONRPCMessage as SdkJSONRPCMessage,
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

/** Where a Streamable HTTP session's events are kept for resumption (`@modelcontextprotocol/server`). */
export type EventStore = SdkEventStore;

/** One JSON-RPC message: request, notification or response (`@modelcontextprotocol/server`). */
export type JSONRPCMessage = SdkJSONRPCMessage;
