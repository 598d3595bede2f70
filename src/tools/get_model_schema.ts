/**
 * `get_model_schema`: a model's input and output schema, from the OpenAPI document fal publishes.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import { parseEndpointId } from "../fal/endpoint_id.ts";
import { FalMcpError, JsonRpcCode } from "../errors.ts";
import { describeFields, extractModelSchemas } from "../fal/openapi.ts";
import { guarded, textResult } from "./tool_result.ts";

/** Input schema of `get_model_schema`. */
export const getModelSchemaInput = z.object({
  endpoint_id: z.string().min(3).max(200).describe('The model endpoint id, e.g. "fal-ai/flux/dev"'),
});

/** Registers `get_model_schema`. */
export function registerGetModelSchema(server: McpServer, deps: ServerDeps): void {
  server.registerTool("get_model_schema", {
    title: "Get a fal model's input/output schema",
    description: "Describe the inputs a fal model accepts (names, types, required fields, " +
      "defaults, allowed values) and what it returns. Call it before run_model for a model you " +
      "have not used yet. Free and fast.",
    inputSchema: getModelSchemaInput,
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
  }, (args, ctx) =>
    guarded("get_model_schema", deps.logger, async () => {
      const id = parseEndpointId(args.endpoint_id);
      const page = await deps.fal.listModels(
        { endpointIds: [id.full], expandOpenApi: true },
        ctx.mcpReq.signal,
      );
      const model = page.models.find((m) => m.endpoint_id === id.full);
      if (!model) {
        throw new FalMcpError(
          `Unknown endpoint id "${id.full}": fal's catalogue has no such model. ` +
            "Use search_models to find one.",
          { status: 404, code: JsonRpcCode.InvalidParams },
        );
      }
      const openapi = model.openapi;
      const expansionError = (openapi?.error as { message?: string } | undefined)?.message;
      if (!openapi || expansionError) {
        throw new FalMcpError(
          `fal has no schema for ${id.full}${expansionError ? `: ${expansionError}` : ""}`,
          { status: 502 },
        );
      }
      const { input, output } = extractModelSchemas(openapi);
      const m = model.metadata ?? {};
      const text = [
        `${id.full}${m.display_name ? ` — ${m.display_name}` : ""}${
          m.category ? ` [${m.category}]` : ""
        }`,
        ...(m.description ? [m.description] : []),
        "",
        "Input:",
        ...describeFields(input),
        "",
        "Output:",
        ...describeFields(output),
      ].join("\n");
      return textResult(text, {
        endpoint_id: id.full,
        metadata: m,
        input_schema: input ?? null,
        output_schema: output ?? null,
      });
    }));
}
