/**
 * The `create_media` prompt: a ready-made request that walks the model through discovering a
 * fal model, reading its schema and running it, for clients that surface prompts as commands.
 *
 * @module
 */

import { completable, type McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { Catalogue } from "../fal/catalogue.ts";
import { completeEndpointId } from "../fal/catalogue.ts";

const baseArgs = {
  request: z.string().describe('What to create, e.g. "a watercolor of a lighthouse at dusk"'),
  kind: z.string().optional().describe("image, video, audio, speech… (optional)"),
};

/** Arguments of `create_media` (without completions). */
export const createMediaArgs: z.ZodObject<
  typeof baseArgs & { endpoint_id: z.ZodOptional<z.ZodString> }
> = z
  .object({
    ...baseArgs,
    endpoint_id: z.string().optional().describe("A fal endpoint id to use (optional)"),
  });

// Built once per catalogue (one per process), not per server: schemas are costly to build.
const argsByCatalogue = new WeakMap<Catalogue, typeof createMediaArgs>();

function argsFor(catalogue: Catalogue | undefined): typeof createMediaArgs {
  if (!catalogue) return createMediaArgs;
  let args = argsByCatalogue.get(catalogue);
  if (!args) {
    args = z.object({
      ...baseArgs,
      endpoint_id: completable(
        z.string().describe("A fal endpoint id to use (optional; completes from the catalogue)"),
        (value) => completeEndpointId(catalogue, value),
      ).optional(),
    });
    argsByCatalogue.set(catalogue, args);
  }
  return args;
}

/** Registers the `create_media` prompt (`endpoint_id` completes from `catalogue`). */
export function registerCreateMediaPrompt(server: McpServer, catalogue?: Catalogue): void {
  server.registerPrompt("create_media", {
    title: "Create media with fal",
    description: "Find a suitable fal model, check its inputs, and generate what you describe.",
    argsSchema: argsFor(catalogue),
  }, ({ request, kind, endpoint_id }) => ({
    messages: [{
      role: "user",
      content: {
        type: "text",
        text: `Create ${kind ? `${kind} ` : ""}media with fal.ai for this request: ${request}\n\n` +
          (endpoint_id
            ? `1. Use the model ${endpoint_id}.\n`
            : "1. Use search_models to pick a suitable, active model (prefer well-known ones).\n") +
          "2. Use get_model_schema to see its inputs.\n" +
          "3. Call run_model with an input that satisfies the schema.\n" +
          "4. Show me the resulting URLs and say which model you used.",
      },
    }],
  }));
}
