/**
 * The `create_media` prompt: a ready-made request that walks the model through discovering a
 * fal model, reading its schema and running it, for clients that surface prompts as commands.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";

/** Arguments of `create_media`. */
export const createMediaArgs = z.object({
  request: z.string().describe('What to create, e.g. "a watercolor of a lighthouse at dusk"'),
  kind: z.string().optional().describe("image, video, audio, speech… (optional)"),
});

/** Registers the `create_media` prompt. */
export function registerCreateMediaPrompt(server: McpServer): void {
  server.registerPrompt("create_media", {
    title: "Create media with fal",
    description: "Find a suitable fal model, check its inputs, and generate what you describe.",
    argsSchema: createMediaArgs,
  }, ({ request, kind }) => ({
    messages: [{
      role: "user",
      content: {
        type: "text",
        text: `Create ${kind ? `${kind} ` : ""}media with fal.ai for this request: ${request}\n\n` +
          "1. Use search_models to pick a suitable, active model (prefer well-known ones).\n" +
          "2. Use get_model_schema to see its inputs.\n" +
          "3. Call run_model with an input that satisfies the schema.\n" +
          "4. Show me the resulting URLs and say which model you used.",
      },
    }],
  }));
}
