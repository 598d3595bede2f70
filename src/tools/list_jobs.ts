/**
 * `list_jobs`: the caller's jobs, newest first, filtered by status or model, paged.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import { JOB_STATUSES } from "../jobs/types.ts";
import { jobSummary } from "./present_job.ts";
import { guarded, textResult } from "./tool_result.ts";

/** Input schema of `list_jobs`. */
export const listJobsInput = z.object({
  status: z.enum(JOB_STATUSES as [string, ...string[]]).optional().describe(
    "Only jobs in this status",
  ),
  endpoint_id: z.string().max(200).optional().describe("Only jobs of this model"),
  limit: z.number().int().min(1).max(100).optional().describe("Jobs per page (default 20)"),
  cursor: z.string().max(500).optional().describe("next_cursor from a previous page"),
});

/** Registers `list_jobs`. */
export function registerListJobs(server: McpServer, deps: ServerDeps): void {
  server.registerTool("list_jobs", {
    title: "List fal jobs",
    description: "List the jobs submitted with your fal key, newest first (job id, model, " +
      "status, when). Use it to find a job whose id you lost, e.g. after a timeout. Free.",
    inputSchema: listJobsInput,
    annotations: {
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    },
  }, (args) =>
    guarded("list_jobs", deps, async () => {
      const page = await deps.jobs.list({
        owner: deps.principal.id,
        statuses: args.status ? [args.status as (typeof JOB_STATUSES)[number]] : undefined,
        endpointId: args.endpoint_id,
        limit: args.limit ?? 20,
        cursor: args.cursor,
      });
      const lines = page.jobs.map((job) =>
        `- ${job.id} ${job.endpointId} ${job.status} (submitted ${job.createdAt})`
      );
      const text = lines.length ? [`${lines.length} job(s):`, ...lines].join("\n") : "No jobs.";
      const more = page.nextCursor ? `\nMore: call again with cursor "${page.nextCursor}".` : "";
      return textResult(text + more, {
        jobs: page.jobs.map(jobSummary),
        next_cursor: page.nextCursor ?? null,
      });
    }));
}
