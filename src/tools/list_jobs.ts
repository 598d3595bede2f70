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
import { toolSchema } from "./tool_schema.ts";
import { listJobsOutput } from "./output_schemas.ts";

/** Input schema of `list_jobs`. */
export const listJobsInput = z.object({
  status: z.enum(JOB_STATUSES as [string, ...string[]]).optional().describe(
    JOB_STATUSES.join(" "),
  ),
  endpoint_id: z.string().max(200).optional().describe("Only this model"),
  limit: z.number().int().min(1).max(100).optional().describe("Per page (default 20)"),
  cursor: z.string().max(500).optional().describe("next_cursor of the last page"),
});

/** Registers `list_jobs`. */
export function registerListJobs(server: McpServer, deps: ServerDeps): void {
  server.registerTool("list_jobs", {
    title: "List fal jobs",
    description: "Your jobs, newest first: finds a lost job_id. Free.",
    inputSchema: toolSchema(listJobsInput),
    outputSchema: listJobsOutput,
    annotations: { readOnlyHint: true, openWorldHint: false },
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
