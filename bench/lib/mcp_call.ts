/**
 * One 2026-07-28 `tools/call` over HTTP, read as it streams: counts progress notifications and
 * notes when the result arrived.
 *
 * @module
 */

import { modernRequest } from "../throughput.ts";

/** How one streamed call went. */
export interface CallOutcome {
  /** Progress notifications received. */
  progress: number;
  /** `Date.now()` when the result arrived. */
  resultAt: number;
  /** The result (or error) message. */
  message: Record<string, unknown>;
}

let nextToken = 0;

/** Calls `tool` with `args` on fal-mcp at `origin`, asking for progress. */
export async function streamedCall(
  origin: string,
  tool: string,
  args: Record<string, unknown>,
  onOpen?: () => void,
): Promise<CallOutcome> {
  const request = modernRequest(origin, "tools/call", { name: tool, arguments: args });
  const body = request.body as { params: { _meta: Record<string, unknown> } };
  body.params._meta.progressToken = `p${nextToken++}`;
  const response = await fetch(request.url, {
    method: "POST",
    headers: request.headers,
    body: JSON.stringify(body),
  });
  if (!response.ok || !response.body) {
    throw new Error(`${tool} answered ${response.status}: ${await response.text()}`);
  }
  onOpen?.();
  let progress = 0;
  let buffer = "";
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${tool}: the stream ended without a result`);
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = event.split("\n").filter((line) => line.startsWith("data: "))
          .map((line) => line.slice(6)).join("\n");
        if (!data) continue;
        const message = JSON.parse(data) as Record<string, unknown>;
        if (message.method === "notifications/progress") progress++;
        else if ("result" in message || "error" in message) {
          return { progress, resultAt: Date.now(), message };
        }
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
