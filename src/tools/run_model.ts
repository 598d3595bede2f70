/**
 * `run_model`: run any fal endpoint with any input, following the job with progress
 * notifications; cancelling the call cancels the fal job.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import { parseEndpointId } from "../fal/endpoint_id.ts";
import type { McpTaskRegistry } from "./mcp_tasks.ts";
import { runJob } from "./run_job.ts";
import { guarded } from "./tool_result.ts";
import { ConfirmationNeeded, confirmTokenArg, gateRun } from "./cost_gate.ts";
import { CREATES_AT_FAL } from "./annotations.ts";

/** Input schema of `run_model`. */
export const runModelInput = z.object({
  endpoint_id: z.string().min(3).max(200).describe(
    'The fal endpoint id, e.g. "fal-ai/flux/dev" (find ids with search_models)',
  ),
  input: z.record(z.string(), z.unknown()).describe(
    'The model input, as described by get_model_schema (e.g. {"prompt": "a red fox"})',
  ),
  save_to: z.string().max(200).optional().describe(
    "Also save the result's files under this folder of the output directory",
  ),
  confirm_token: confirmTokenArg,
});

/** Registers `run_model`. */
export function registerRunModel(
  server: McpServer,
  deps: ServerDeps,
  tasks?: McpTaskRegistry,
): void {
  const tool = server.registerTool("run_model", {
    title: "Run a fal model",
    description: "Run any fal.ai model and wait for its result. Media come back as URLs " +
      "(resource links; small images also inline). Costs fal credits (images cost cents; video " +
      "can cost dollars). Images take seconds; for video or music prefer submit_job + get_job. " +
      "Check the input with get_model_schema first. Send a progressToken to receive queue " +
      "position and log lines while it runs.",
    inputSchema: runModelInput,
    annotations: CREATES_AT_FAL,
  }, (args, ctx) =>
    guarded("run_model", deps, async () => {
      const id = parseEndpointId(args.endpoint_id);
      return await runJob(deps, ctx, id.full, args.input, {
        tool: "run_model",
        saveTo: args.save_to,
        taskCapable: tasks !== undefined,
        gate: { server, args },
      });
    }));
  tasks?.add("run_model", tool, {
    async start(raw, ctx) {
      const args = runModelInput.parse(raw);
      const id = parseEndpointId(args.endpoint_id);
      const decision = await gateRun(server, deps, ctx, "run_model", id.full, args);
      if (decision.kind === "answer") throw new ConfirmationNeeded(decision);
      const record = await deps.jobs.submit(deps, id.full, args.input, { tool: "run_model" });
      deps.costs?.record(record.owner, decision.estimateUsd);
      return record;
    },
  });
}
