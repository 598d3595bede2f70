/**
 * MCP progress notifications for a fal job, sent only when the client asked for them with a
 * `progressToken`. Each queue position and each log line becomes one notification, in order.
 *
 * @module
 */

import type { ServerContext } from "@modelcontextprotocol/server";
import type { QueueStatus } from "../fal/types.ts";

/** Reports fal status updates as MCP progress; a no-op when the client gave no token. */
export class ProgressReporter {
  readonly #ctx: ServerContext;
  readonly #token: string | number | undefined;
  #progress = 0;
  readonly #logsSeen = new Set<string>();
  #lastMessage = "";
  #chain: Promise<void> = Promise.resolve();

  /** Reads the progress token of the request being handled; progress goes on from `start`. */
  constructor(ctx: ServerContext, start = 0) {
    this.#ctx = ctx;
    this.#progress = start;
    const token = ctx.mcpReq._meta?.progressToken;
    this.#token = typeof token === "string" || typeof token === "number" ? token : undefined;
  }

  /** Sends a progress notification with `message` (deduplicated). */
  report(message: string): void {
    if (this.#token === undefined || message === this.#lastMessage) return;
    this.#lastMessage = message;
    const params = { progressToken: this.#token, progress: ++this.#progress, message };
    this.#chain = this.#chain
      .then(() => this.#ctx.mcpReq.notify({ method: "notifications/progress", params }))
      .catch(() => {}); // the client left; the tool's own signal handles that
  }

  /** Reports one fal status: queue position, then each log line not reported yet. */
  status(status: QueueStatus): void {
    if (status.status === "IN_QUEUE") {
      this.report(`In queue at position ${status.queue_position ?? "?"}`);
      return;
    }
    // The status stream carries only new lines, a polled status all of them: report each once.
    const logs = status.logs ?? [];
    for (const log of logs) {
      const key = `${log.timestamp ?? ""}|${log.message}`;
      if (this.#logsSeen.has(key)) continue;
      this.#logsSeen.add(key);
      this.report(log.message);
    }
    if (status.status === "IN_PROGRESS" && logs.length === 0) this.report("Running");
    if (status.status === "COMPLETED") this.report("Completed");
  }

  /** Waits until every notification sent so far has been handed to the transport. */
  async flush(): Promise<void> {
    await this.#chain;
  }
}
