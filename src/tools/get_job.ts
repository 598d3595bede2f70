/**
 * `get_job`: where a job stands, its recent logs, and its result once done; optionally waits a
 * bounded time for it to finish.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import { ProgressReporter } from "./progress.ts";
import { checkSaveTarget } from "../files/save_output.ts";
import { presentJob } from "./present_job.ts";
import { guarded } from "./tool_result.ts";
import { READS_FAL } from "./annotations.ts";
import { listedToolSchema } from "./tool_schema.ts";
import { unlistedArgs } from "./unlisted_args.ts";
import { jobOutput } from "./output_schemas.ts";

/** Longest wait a single get_job call may ask for. */
export const MAX_WAIT_SECONDS = 60;

/** Input schema of `get_job`. */
export const getJobInput = z.object({
  job_id: z.string().min(1).max(200),
  wait_seconds: z.number().min(0).max(MAX_WAIT_SECONDS).optional().describe(
    `Seconds to wait for it to finish (default 0)`,
  ),
  save_to: z.string().max(200).optional().describe(
    "Subfolder to also save files in",
  ),
});

/** Registers `get_job`. */
export function registerGetJob(server: McpServer, deps: ServerDeps): void {
  server.registerTool("get_job", {
    title: "Check a fal job",
    description: "A job's status, logs and, once done, its result (kept across restarts). Free.",
    inputSchema: listedToolSchema(getJobInput, unlistedArgs(deps)),
    outputSchema: jobOutput,
    annotations: READS_FAL,
  }, (args, ctx) =>
    guarded("get_job", deps, async () => {
      await checkSaveTarget(deps.settings.saveBaseDir, args.save_to);
      const progress = new ProgressReporter(ctx);
      const record = await deps.jobs.wait(deps, args.job_id, {
        timeoutMs: (args.wait_seconds ?? 0) * 1000,
        signal: deps.stopping
          ? AbortSignal.any([ctx.mcpReq.signal, deps.stopping])
          : ctx.mcpReq.signal,
        onStatus: (status) => progress.status(status),
      });
      await progress.flush();
      return await presentJob(record, deps, { saveTo: args.save_to, signal: ctx.mcpReq.signal });
    }));
}
