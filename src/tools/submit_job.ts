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
import { checkRunInput, validateArg } from "./check_input.ts";
import { listedToolSchema } from "./tool_schema.ts";
import { unlistedArgs } from "./unlisted_args.ts";
import { runOutput } from "./output_schemas.ts";
import { confirmTokenArg, gateRun, submitPaid } from "./cost_gate.ts";

/** Input schema of `submit_job`. */
export const submitJobInput = z.object({
  endpoint_id: z.string().min(3).max(200).describe('e.g. "fal-ai/wan-i2v"'),
  input: z.record(z.string(), z.unknown()).describe("See get_model_schema"),
  validate: validateArg,
  confirm_token: confirmTokenArg,
});

/** Registers `submit_job`. */
export function registerSubmitJob(server: McpServer, deps: ServerDeps): void {
  server.registerTool("submit_job", {
    title: "Submit a fal job",
    description: "Start any fal model and get a job_id at once, for get_job. Costs credits.",
    inputSchema: listedToolSchema(submitJobInput, unlistedArgs(deps)),
    outputSchema: runOutput,
    annotations: CREATES_AT_FAL,
  }, (args, ctx) =>
    guarded("submit_job", deps, async () => {
      const id = parseEndpointId(args.endpoint_id);
      await checkRunInput(deps, id.full, args.input, args.validate, ctx.mcpReq.signal);
      const decision = await gateRun(server, deps, ctx, "submit_job", id.full, args);
      if (decision.kind === "answer") return decision.result as CallToolResult;
      const record = await submitPaid(deps, decision, () =>
        deps.jobs.submit(deps, id.full, args.input, {
          tool: "submit_job",
          signal: ctx.mcpReq.signal,
        }));
      return textResult(
        `Submitted job ${record.id} to ${id.full}. Follow it with get_job ` +
          `{"job_id": "${record.id}", "wait_seconds": 30}.`,
        jobSummary(record),
      );
    }));
}
