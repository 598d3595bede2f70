/**
 * `fal://models/{endpoint_id}/schema`: a model's input and output JSON schemas.
 *
 * @module
 */

import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/server";
import type { ServerDeps } from "../context.ts";
import { PUBLIC_LONG } from "../cache_hints.ts";
import { catalogueOf, completeEndpointId } from "../fal/catalogue.ts";

/** Registers the `fal://models/{endpoint_id}/schema` resource template. */
export function registerModelSchemaResource(server: McpServer, deps: ServerDeps): void {
  // `{+endpoint_id}` keeps the slashes of ids such as fal-ai/flux/dev.
  const catalogue = deps.catalogue ?? catalogueOf(deps.fal);
  const template = new ResourceTemplate("fal://models/{+endpoint_id}/schema", {
    list: undefined,
    complete: { endpoint_id: (value) => completeEndpointId(catalogue, value) },
  });
  server.registerResource("fal-model-schema", template, {
    title: "fal model schema",
    description: "The input and output JSON schemas of a fal model (e.g. " +
      "fal://models/fal-ai/flux/dev/schema)",
    mimeType: "application/json",
    cacheHint: PUBLIC_LONG,
  }, async (uri, variables, ctx) => {
    const endpointId = decodeURIComponent(String(variables.endpoint_id));
    const model = await deps.schemas.get(deps.fal, endpointId, ctx.mcpReq.signal);
    const body = {
      endpoint_id: model.endpointId,
      metadata: model.metadata,
      input_schema: model.input ?? null,
      output_schema: model.output ?? null,
    };
    return {
      contents: [{
        uri: uri.href,
        mimeType: "application/json",
        text: JSON.stringify(body, null, 2),
      }],
    };
  });
}
