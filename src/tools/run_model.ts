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
import { runQueuedJob } from "../fal/follow_job.ts";
import { elideDataUris, outputContent } from "./media_content.ts";
import { ProgressReporter } from "./progress.ts";
import { guarded } from "./tool_result.ts";

/** Input schema of `run_model`. */
export const runModelInput = z.object({
  endpoint_id: z.string().min(3).max(200).describe(
    'The fal endpoint id, e.g. "fal-ai/flux/dev" (find ids with search_models)',
  ),
  input: z.record(z.string(), z.unknown()).describe(
    'The model input, as described by get_model_schema (e.g. {"prompt": "a red fox"})',
  ),
});

/** Registers `run_model`. */
export function registerRunModel(server: McpServer, deps: ServerDeps): void {
  server.registerTool("run_model", {
    title: "Run a fal model",
    description: "Run any fal.ai model and wait for its result. Media come back as URLs " +
      "(resource links). Costs fal credits (images cost cents; video can cost dollars). Images " +
      "take seconds; video and music can take minutes. Check the input with get_model_schema " +
      "first. Send a progressToken to receive queue position and log lines while it runs.",
    inputSchema: runModelInput,
    annotations: {
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
      openWorldHint: true,
    },
  }, (args, ctx) =>
    guarded("run_model", deps.logger, async () => {
      const id = parseEndpointId(args.endpoint_id);
      const progress = new ProgressReporter(ctx);
      const log = deps.logger.child({ tool: "run_model", endpoint_id: id.full });
      const job = await runQueuedJob(deps.fal, id.full, args.input, {
        signal: ctx.mcpReq.signal,
        logger: log,
        onSubmitted: (requestId) => {
          log.info("fal job submitted", { request_id: requestId });
          progress.report(`Submitted as fal request ${requestId}`);
        },
        onStatus: (status) => progress.status(status),
      });
      await progress.flush();
      const seconds = job.status.metrics?.inference_time;
      const summary = `${id.full} finished (fal request ${job.requestId}${
        typeof seconds === "number" ? `, ${seconds.toFixed(2)} s inference` : ""
      }).`;
      return {
        content: outputContent(summary, job.result),
        structuredContent: {
          endpoint_id: id.full,
          request_id: job.requestId,
          result: elideDataUris(job.result),
        },
      };
    }));
}
