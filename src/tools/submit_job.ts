/**
 * `submit_job`: start any fal model and answer at once with a job id, for long runs (video,
 * music) that would outlast a client's patience. The job is recorded before this returns.
 *
 * @module
 */

import type { CallToolResult, McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import { parseEndpointId } from "../fal/endpoint_id.ts";
import { jobSummary } from "./present_job.ts";
import { guarded, textResult } from "./tool_result.ts";
import { CREATES_AT_FAL } from "./annotations.ts";
import { confirmTokenArg, gateRun } from "./cost_gate.ts";

/** Input schema of `submit_job`. */
export const submitJobInput = z.object({
  endpoint_id: z.string().min(3).max(200).describe('The fal endpoint id, e.g. "fal-ai/wan-i2v"'),
  input: z.record(z.string(), z.unknown()).describe("The model input (see get_model_schema)"),
  confirm_token: confirmTokenArg,
});

/** Registers `submit_job`. */
export function registerSubmitJob(server: McpServer, deps: ServerDeps): void {
  server.registerTool("submit_job", {
    title: "Submit a fal job",
    description: "Start any fal.ai model without waiting and get a job_id back at once. Use it " +
      "for slow models (video: 1-5+ minutes, music) or when you want to do other things " +
      "meanwhile; then call get_job to follow it and fetch the result (it is kept). Costs fal " +
      "credits like run_model.",
    inputSchema: submitJobInput,
    annotations: CREATES_AT_FAL,
  }, (args, ctx) =>
    guarded("submit_job", deps, async () => {
      const id = parseEndpointId(args.endpoint_id);
      const decision = await gateRun(server, deps, ctx, "submit_job", id.full, args);
      if (decision.kind === "answer") return decision.result as CallToolResult;
      const record = await deps.jobs.submit(deps, id.full, args.input, {
        tool: "submit_job",
        signal: ctx.mcpReq.signal,
      });
      deps.costs?.record(record.owner, decision.estimateUsd);
      return textResult(
        `Submitted job ${record.id} to ${id.full}. Follow it with get_job ` +
          `{"job_id": "${record.id}", "wait_seconds": 30}.`,
        jobSummary(record),
      );
    }));
}
