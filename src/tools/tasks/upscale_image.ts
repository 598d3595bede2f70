/**
 * `upscale_image`: enlarge an image with added detail.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../../context.ts";
import type { McpTaskRegistry } from "../mcp_tasks.ts";
import { mediaArg, registerTaskTool, type TaskDefinition, taskInputSchema } from "../task_tool.ts";

/** Built-in default model of `upscale_image`. */
export const UPSCALE_IMAGE_MODEL = "fal-ai/clarity-upscaler";

const args = {
  image: mediaArg("Image"),
  scale: z.number().min(1).max(8).optional().describe(
    "Factor, e.g. 2",
  ),
  prompt: z.string().max(5000).optional().describe("Guides the added detail"),
};

/** Input schema of `upscale_image`. */
export const upscaleImageInput = taskInputSchema(args);

type Args = z.infer<z.ZodObject<typeof args>>;

const task: TaskDefinition<Args> = {
  name: "upscale_image",
  title: "Upscale an image",
  description: `Upscale an image (default ${UPSCALE_IMAGE_MODEL}). Under a minute; cents.`,
  args,
  mediaArgs: ["image"],
  defaultModel: () => ({ key: "upscale_image", endpointId: UPSCALE_IMAGE_MODEL }),
  build(a, input) {
    input.set("image", a.image, "image_url", "image");
    input.set("scale", a.scale, "upscale_factor", "scale", "upscaling_factor");
    input.set("prompt", a.prompt, "prompt");
  },
};

/** Registers `upscale_image`. */
export function registerUpscaleImage(
  server: McpServer,
  deps: ServerDeps,
  tasks?: McpTaskRegistry,
): void {
  registerTaskTool(server, deps, task, upscaleImageInput, tasks);
}
