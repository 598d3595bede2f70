/**
 * A raw 2026-07-28 client for tests: posts one request with the `_meta` envelope and the
 * standard headers (`Mcp-Method`, `Mcp-Name`), declaring whatever client capabilities a test
 * needs (the tasks extension, elicitation), and reads the JSON-RPC answer.
 *
 * @module
 */

import { MODERN, POST_HEADERS, readMessage } from "./raw_mcp.ts";

/** The client capabilities of a client that runs long tools as tasks. */
export const TASKS_CAPABILITIES = { extensions: { "io.modelcontextprotocol/tasks": {} } };

/** A JSON-RPC answer. */
export interface RpcAnswer {
  /** HTTP status. */
  status: number;
  /** The result, if any. */
  result?: Record<string, unknown>;
  /** The error, if any. */
  error?: { code: number; message: string; data?: unknown };
}

/** Posts raw 2026-07-28 requests to one `/mcp` URL. */
export class ModernClient {
  #id = 0;

  /** A client of `mcpUrl` declaring `capabilities`, with extra headers (e.g. auth). */
  constructor(
    readonly mcpUrl: string,
    readonly capabilities: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {}

  /** The headers and body of one request. */
  build(method: string, params: Record<string, unknown> = {}): { body: string; headers: Headers } {
    const headers = new Headers({
      ...POST_HEADERS,
      ...this.headers,
      "mcp-protocol-version": MODERN,
      "mcp-method": method,
    });
    const name = params.name ?? params.uri ?? params.taskId;
    if (typeof name === "string") headers.set("mcp-name", name);
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: ++this.#id,
      method,
      params: {
        ...params,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": MODERN,
          "io.modelcontextprotocol/clientInfo": { name: "modern-test", version: "1.0.0" },
          "io.modelcontextprotocol/clientCapabilities": this.capabilities,
        },
      },
    });
    return { body, headers };
  }

  /** Sends one request; answers its result or error. */
  async request(method: string, params: Record<string, unknown> = {}): Promise<RpcAnswer> {
    const { body, headers } = this.build(method, params);
    const response = await fetch(this.mcpUrl, { method: "POST", headers, body });
    const message = await readMessage<Omit<RpcAnswer, "status">>(response);
    return { status: response.status, ...message };
  }

  /** Opens a request whose answer is a stream (subscriptions/listen); answers the response. */
  async open(
    method: string,
    params: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<Response> {
    const { body, headers } = this.build(method, params);
    return await fetch(this.mcpUrl, { method: "POST", headers, body, signal });
  }
}
