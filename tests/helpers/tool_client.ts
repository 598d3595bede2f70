/**
 * A v2 MCP client connected to the real server (over Streamable HTTP) against the fake fal, with
 * a small `call` helper, for tool tests.
 *
 * @module
 */

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { FakeFal } from "../fake_fal/server.ts";
import { startTestHttpServer, type TestHttpServer } from "./http_server.ts";
import { falEnv, withFakeFal } from "./scenario.ts";

/** A content block as tests read it. */
export interface Block {
  type: string;
  text?: string;
  uri?: string;
  mimeType?: string;
  size?: number;
  data?: string;
}

/** A tool result as tests read it. */
export interface ToolAnswer {
  isError?: boolean;
  content: Block[];
  structuredContent?: Record<string, unknown>;
}

/** What a tool test gets. */
export interface ToolContext {
  /** Calls a tool. */
  call(name: string, args: Record<string, unknown>): Promise<ToolAnswer>;
  /** The connected client. */
  client: Client;
  /** The fake fal. */
  fake: FakeFal;
  /** The server. */
  server: TestHttpServer;
}

/** Options for {@linkcode withToolClient}. */
export interface ToolClientOptions {
  /** Extra server flags. */
  args?: string[];
  /** Environment for the server (defaults to the fake's key and URL). */
  env?: (fake: FakeFal) => Record<string, string>;
  /** Fake fal options. */
  fake?: Parameters<typeof withFakeFal>[1];
}

/** Starts the fake and the server, connects a client, runs `fn`, stops everything. */
export async function withToolClient(
  fn: (ctx: ToolContext) => Promise<void>,
  options: ToolClientOptions = {},
): Promise<void> {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({
      env: (options.env ?? falEnv)(fake),
      args: options.args ?? [],
    });
    const client = new Client({ name: "tool-test", version: "1.0.0" }, {
      versionNegotiation: { mode: { pin: "2026-07-28" } },
    });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
      const call = async (name: string, args: Record<string, unknown>) =>
        await client.callTool({ name, arguments: args }, { timeout: 60_000 }) as ToolAnswer;
      await fn({ call, client, fake, server });
    } finally {
      await client.close();
      await server.close();
    }
  }, options.fake);
}

/** The first text block of a result. */
export function textOf(answer: ToolAnswer): string {
  return answer.content.find((c) => c.type === "text")?.text ?? "";
}

/** Every text block of a result, joined. */
export function allText(answer: ToolAnswer): string {
  return answer.content.filter((c) => c.type === "text").map((c) => c.text).join("\n");
}
