/**
 * `generate_image`: text to image.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../../context.ts";
import type { McpTaskRegistry } from "../mcp_tasks.ts";
import { setFormat, setImageSize } from "../input_builder.ts";
import {
  aspectRatioArg,
  registerTaskTool,
  type TaskDefinition,
  taskInputSchema,
} from "../task_tool.ts";

/** Built-in default model of `generate_image`. */
export const GENERATE_IMAGE_MODEL = "fal-ai/flux/dev";

const args = {
  prompt: z.string().min(1).max(10_000),
  size: z.string().max(40).optional().describe(
    "square_hd square landscape_4_3 landscape_16_9 portrait_4_3 portrait_16_9, or WxH",
  ),
  aspect_ratio: aspectRatioArg,
  count: z.number().int().min(1).max(8).optional().describe("Images (default 1)"),
  seed: z.number().int().min(0).optional(),
  negative_prompt: z.string().max(5000).optional().describe("What to avoid"),
  format: z.enum(["jpeg", "png", "webp"]).optional().describe("jpeg, png or webp"),
};

/** Input schema of `generate_image`. */
export const generateImageInput = taskInputSchema(args);

type Args = z.infer<z.ZodObject<typeof args>>;

const task: TaskDefinition<Args> = {
  name: "generate_image",
  title: "Generate an image",
  description: `Text to image (default ${GENERATE_IMAGE_MODEL}; fal-ai/flux/schnell is faster). ` +
    "Seconds; cents per image.",
  args,
  defaultModel: () => ({ key: "generate_image", endpointId: GENERATE_IMAGE_MODEL }),
  build(a, input) {
    input.set("prompt", a.prompt, "prompt");
    setImageSize(input, a.size, a.aspect_ratio);
    input.set("count", a.count, "num_images");
    input.set("seed", a.seed, "seed");
    input.set("negative_prompt", a.negative_prompt, "negative_prompt");
    setFormat(input, a.format);
  },
};

/** Registers `generate_image`. */
export function registerGenerateImage(
  server: McpServer,
  deps: ServerDeps,
  tasks?: McpTaskRegistry,
): void {
  registerTaskTool(server, deps, task, generateImageInput, tasks);
}
