/**
 * `search_models`: find fal models in the platform catalogue by text and category.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import type { FalModel } from "../fal/types.ts";
import { guarded, textResult } from "./tool_result.ts";
import { READS_FAL } from "./annotations.ts";
import { toolSchema } from "./tool_schema.ts";
import { searchModelsOutput } from "./output_schemas.ts";

/** Input schema of `search_models`. */
export const searchModelsInput = z.object({
  query: z.string().max(200).optional().describe(
    'e.g. "upscale", "text to speech"; omit to browse',
  ),
  category: z.string().max(64).optional().describe(
    "e.g. text-to-image, image-to-video",
  ),
  limit: z.number().int().min(1).max(50).optional().describe("Per page (default 10)"),
  cursor: z.string().max(500).optional().describe("next_cursor of the last page"),
});

function summarize(model: FalModel): Record<string, unknown> {
  const m = model.metadata ?? {};
  const description = typeof m.description === "string" && m.description.length > 200
    ? `${m.description.slice(0, 197)}...`
    : m.description;
  return {
    endpoint_id: model.endpoint_id,
    name: m.display_name,
    category: m.category,
    description,
    status: m.status,
    tags: m.tags,
  };
}

/** Registers `search_models`. */
export function registerSearchModels(server: McpServer, deps: ServerDeps): void {
  server.registerTool("search_models", {
    title: "Search fal models",
    description: "Find fal models (image, video, audio, speech…) and their endpoint_id. Free.",
    inputSchema: toolSchema(searchModelsInput),
    outputSchema: searchModelsOutput,
    annotations: READS_FAL,
  }, (args, ctx) =>
    guarded("search_models", deps, async () => {
      const page = await deps.fal.listModels({
        q: args.query,
        category: args.category,
        limit: args.limit ?? 10,
        cursor: args.cursor,
        status: "active",
      }, ctx.mcpReq.signal);
      const models = page.models.map(summarize);
      const lines = models.map((m) =>
        `- ${m.endpoint_id}${m.name ? ` — ${m.name}` : ""}${m.category ? ` [${m.category}]` : ""}${
          m.description ? `: ${m.description}` : ""
        }`
      );
      const header = models.length
        ? `${models.length} model(s)${args.query ? ` for "${args.query}"` : ""}:`
        : `No models found${args.query ? ` for "${args.query}"` : ""}${
          args.category ? ` in category ${args.category}` : ""
        }.`;
      const more = page.has_more && page.next_cursor
        ? `\nMore results: call again with cursor "${page.next_cursor}".`
        : "";
      return textResult([header, ...lines].join("\n") + more, {
        models,
        next_cursor: page.next_cursor,
        has_more: page.has_more,
      });
    }));
}
