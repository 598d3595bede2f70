/**
 * `cancel_job`: ask fal to stop a job.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import { jobSummary } from "./present_job.ts";
import { guarded, textResult } from "./tool_result.ts";
import { toolSchema } from "./tool_schema.ts";
import { cancelJobOutput } from "./output_schemas.ts";

/** Input schema of `cancel_job`. */
export const cancelJobInput = z.object({
  job_id: z.string().min(1).max(200),
});

const OUTCOMES: Record<string, (id: string) => string> = {
  CANCELLATION_REQUESTED: (id) =>
    `Asked fal to cancel job ${id}. If it finishes anyway, get_job still shows its result.`,
  ALREADY_COMPLETED: (id) => `Job ${id} had already completed; nothing to cancel.`,
  ALREADY_FINISHED: (id) => `Job ${id} had already finished; nothing to cancel.`,
  NOT_FOUND: (id) => `fal no longer knows job ${id}; nothing to cancel.`,
};

/** Registers `cancel_job`. */
export function registerCancelJob(server: McpServer, deps: ServerDeps): void {
  server.registerTool("cancel_job", {
    title: "Cancel a fal job",
    description: "Cancel a queued or running job (a running one may still be billed).",
    inputSchema: toolSchema(cancelJobInput),
    outputSchema: cancelJobOutput,
    annotations: { destructiveHint: true, idempotentHint: true },
  }, (args) =>
    guarded("cancel_job", deps, async () => {
      const { outcome, record } = await deps.jobs.cancel(deps, args.job_id);
      const say = OUTCOMES[outcome] ?? ((id: string) => `fal answered ${outcome} for job ${id}.`);
      return textResult(say(record.id), { ...jobSummary(record), outcome });
    }));
}
