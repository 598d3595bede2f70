/**
 * The one server factory every transport calls: an MCP server (every tool, resource and prompt)
 * for a caller.
 *
 * @module
 */

import type { Principal } from "../principal.ts";
import type { McpServer } from "../sdk_types.ts";

/** Builds a fresh MCP server (the one factory) for a caller. */
export type ServerFactory = (principal: Principal) => McpServer | Promise<McpServer>;
