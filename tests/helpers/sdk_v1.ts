/**
 * The v1 MCP SDK client classes (`@modelcontextprotocol/sdk`), in one place.
 *
 * The v1 package maps `./*` types to `dist/esm/*.d.ts`, so `…/index.js` would resolve to a
 * missing `index.js.d.ts` and type as `any`; the `@ts-types` hints point the checker at the
 * extensionless subpaths while the runtime imports keep their `.js` paths.
 *
 * @module
 */

// @ts-types="@modelcontextprotocol/sdk/client"
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
// @ts-types="@modelcontextprotocol/sdk/client/sse"
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
// @ts-types="@modelcontextprotocol/sdk/client/streamableHttp"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
// @ts-types="@modelcontextprotocol/sdk/client/stdio"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

export { Client, SSEClientTransport, StdioClientTransport, StreamableHTTPClientTransport };
