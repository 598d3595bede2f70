/**
 * Building tool results: text, JSON, and errors that tell the caller what went wrong.
 *
 * @module
 */

import type { CallToolResult } from "@modelcontextprotocol/server";
import { FalMcpError } from "../errors.ts";
import type { Logger } from "../log.ts";

/** A tool result holding one text block. */
export function textResult(text: string, structured?: Record<string, unknown>): CallToolResult {
  const result: CallToolResult = { content: [{ type: "text", text }] };
  if (structured) result.structuredContent = structured;
  return result;
}

/**
 * Turns an error into a tool error (`isError: true`) the model can read and act on. Expected
 * errors keep their message; anything else is logged and answered with a generic line.
 */
export function errorResult(error: unknown, logger: Logger, tool: string): CallToolResult {
  if (error instanceof FalMcpError) {
    return { isError: true, content: [{ type: "text", text: error.message }] };
  }
  if (error instanceof DOMException && error.name === "AbortError") {
    return { isError: true, content: [{ type: "text", text: `${tool} was cancelled` }] };
  }
  logger.error("tool failed", { tool, error });
  const message = error instanceof Error ? error.message : String(error);
  return { isError: true, content: [{ type: "text", text: `${tool} failed: ${message}` }] };
}

/** Runs a tool body, converting any thrown error with {@linkcode errorResult}. */
export async function guarded(
  tool: string,
  logger: Logger,
  body: () => Promise<CallToolResult>,
): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    return errorResult(error, logger, tool);
  }
}
