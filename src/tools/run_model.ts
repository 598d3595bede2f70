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
import { checkRunInput, validateArg } from "./check_input.ts";
import { guarded } from "./tool_result.ts";
import { ConfirmationNeeded, confirmTokenArg, gateRun, submitPaid } from "./cost_gate.ts";
import { CREATES_AT_FAL } from "./annotations.ts";
import { listedToolSchema } from "./tool_schema.ts";
import { unlistedArgs } from "./unlisted_args.ts";
import { runOutput } from "./output_schemas.ts";

/** Input schema of `run_model`. */
export const runModelInput = z.object({
  endpoint_id: z.string().min(3).max(200).describe(
    'e.g. "fal-ai/flux/dev" (see search_models)',
  ),
  input: z.record(z.string(), z.unknown()).describe(
    'See get_model_schema, e.g. {"prompt": "a fox"}',
  ),
  save_to: z.string().max(200).optional().describe("Subfolder to also save files in"),
  validate: validateArg,
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
    description: "Run any fal model with a raw input and wait for the result. Costs credits; for " +
      "video or music prefer submit_job.",
    inputSchema: listedToolSchema(runModelInput, unlistedArgs(deps)),
    outputSchema: runOutput,
    annotations: CREATES_AT_FAL,
  }, (args, ctx) =>
    guarded("run_model", deps, async () => {
      const id = parseEndpointId(args.endpoint_id);
      await checkRunInput(deps, id.full, args.input, args.validate, ctx.mcpReq.signal);
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
      await checkRunInput(deps, id.full, args.input, args.validate, ctx.mcpReq.signal);
      const decision = await gateRun(server, deps, ctx, "run_model", id.full, args);
      if (decision.kind === "answer") throw new ConfirmationNeeded(decision);
      const record = await submitPaid(
        deps,
        decision,
        () => deps.jobs.submit(deps, id.full, args.input, { tool: "run_model" }),
      );
      return record;
    },
  });
}
