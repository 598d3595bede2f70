/**
 * `get_model_schema`: a model's input and output schema, from the OpenAPI document fal publishes.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import { parseEndpointId } from "../fal/endpoint_id.ts";
import { describeFields } from "../fal/openapi.ts";
import { guarded, textResult } from "./tool_result.ts";
import { READS_FAL } from "./annotations.ts";
import { toolSchema } from "./tool_schema.ts";
import { modelSchemaOutput } from "./output_schemas.ts";

/** Input schema of `get_model_schema`. */
export const getModelSchemaInput = z.object({
  endpoint_id: z.string().min(3).max(200).describe('e.g. "fal-ai/flux/dev"'),
});

/** Registers `get_model_schema`. */
export function registerGetModelSchema(server: McpServer, deps: ServerDeps): void {
  server.registerTool("get_model_schema", {
    title: "Get a fal model's input/output schema",
    description:
      "A model's inputs (types, defaults, allowed values) and outputs, for run_model. Free.",
    inputSchema: toolSchema(getModelSchemaInput),
    outputSchema: modelSchemaOutput,
    annotations: READS_FAL,
  }, (args, ctx) =>
    guarded("get_model_schema", deps, async () => {
      const id = parseEndpointId(args.endpoint_id);
      const model = await deps.schemas.get(deps.fal, id.full, ctx.mcpReq.signal);
      const { input, output } = model;
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
