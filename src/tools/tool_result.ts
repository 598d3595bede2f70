/**
 * Building tool results: text, JSON, and errors that tell the caller what went wrong.
 *
 * @module
 */

import type { CallToolResult } from "@modelcontextprotocol/server";
import { errorMessage, FalMcpError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { CallsInFlight } from "../calls_in_flight.ts";
import type { Metrics } from "../metrics.ts";
import { withSpan } from "../telemetry.ts";

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
  const message = errorMessage(error);
  return { isError: true, content: [{ type: "text", text: `${tool} failed: ${message}` }] };
}

/** What {@linkcode guarded} records tool calls with. */
export interface ToolObservers {
  /** Logger for failures and call records. */
  logger: Logger;
  /** Metrics registry, when the server keeps one. */
  metrics?: Metrics | undefined;
  /** The calls under way, which graceful shutdown waits for (uncounted when absent). */
  underWay?: CallsInFlight | undefined;
}

/**
 * Runs a tool body inside a span, converting any thrown error with {@linkcode errorResult}, and
 * records the call (count and duration by tool and outcome).
 */
export async function guarded(
  tool: string,
  observers: ToolObservers,
  body: () => Promise<CallToolResult>,
): Promise<CallToolResult> {
  const started = performance.now();
  const leave = observers.underWay?.enter();
  let result: CallToolResult;
  try {
    result = await withSpan(`tool ${tool}`, { "mcp.tool.name": tool }, body);
  } catch (error) {
    result = errorResult(error, observers.logger, tool);
  } finally {
    leave?.();
  }
  const seconds = (performance.now() - started) / 1000;
  const outcome = result.isError ? "error" : "ok";
  observers.metrics?.inc("fal_mcp_tool_calls_total", "Tool calls by tool and outcome", {
    tool,
    outcome,
  });
  observers.metrics?.observe(
    "fal_mcp_tool_call_duration_seconds",
    "Tool call duration by tool",
    { tool },
    seconds,
  );
  observers.logger.debug("tool call", { tool, outcome, duration_ms: Math.round(seconds * 1000) });
  return result;
}
