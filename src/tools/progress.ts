/**
 * MCP progress notifications for a fal job, sent only when the client asked for them with a
 * `progressToken`. Each queue position and each new log line becomes one notification, in order.
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
  #logsSeen = 0;
  #lastMessage = "";
  #chain: Promise<void> = Promise.resolve();

  /** Reads the progress token of the request being handled. */
  constructor(ctx: ServerContext) {
    this.#ctx = ctx;
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
    const logs = status.logs ?? [];
    if (logs.length < this.#logsSeen) this.#logsSeen = 0;
    for (const log of logs.slice(this.#logsSeen)) this.report(log.message);
    this.#logsSeen = logs.length;
    if (status.status === "IN_PROGRESS" && logs.length === 0) this.report("Running");
    if (status.status === "COMPLETED") this.report("Completed");
  }

  /** Waits until every notification sent so far has been handed to the transport. */
  async flush(): Promise<void> {
    await this.#chain;
  }
}
