/**
 * `fal://jobs/{job_id}`: a job record and its result as JSON, for clients that browse resources.
 * Listing shows the caller's most recent jobs.
 *
 * @module
 */

import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/server";
import type { ServerDeps } from "../context.ts";
import { jobCacheHint } from "../cache_hints.ts";
import { isModernRequest } from "../tools/task_view.ts";
import { elideDataUris } from "../files/media_files.ts";
import { jobSummary } from "../tools/present_job.ts";

/** How many jobs a resource listing shows. */
const LISTED_JOBS = 50;

/** Registers the `fal://jobs/{job_id}` resource template. */
export function registerJobResource(server: McpServer, deps: ServerDeps): void {
  const template = new ResourceTemplate("fal://jobs/{job_id}", {
    list: async () => {
      const page = await deps.jobs.list({ owner: deps.principal.id, limit: LISTED_JOBS });
      return {
        resources: page.jobs.map((job) => ({
          uri: `fal://jobs/${job.id}`,
          name: `${job.endpointId} ${job.status}`,
          description: `fal job submitted ${job.createdAt}`,
          mimeType: "application/json",
        })),
      };
    },
  });
  server.registerResource("fal-job", template, {
    title: "fal job",
    description: "A fal job: status, logs, and the result once completed",
    mimeType: "application/json",
  }, async (uri, variables, ctx) => {
    const id = String(variables.job_id);
    const record = await deps.jobs.get(deps, decodeURIComponent(id));
    const body = {
      ...jobSummary(record),
      logs: record.logs,
      input: elideDataUris(record.input),
      result: elideDataUris(record.result),
    };
    return {
      contents: [{
        uri: uri.href,
        mimeType: "application/json",
        text: JSON.stringify(body, null, 2),
      }],
      // 2026-07-28 only: a running job goes stale within a second, a finished one never does.
      ...(isModernRequest(ctx) ? jobCacheHint(record) : {}),
    };
  });
}
