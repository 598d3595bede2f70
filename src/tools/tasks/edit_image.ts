/**
 * `edit_image`: change an image by instruction (image-to-image / editing models).
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../../context.ts";
import type { McpTaskRegistry } from "../mcp_tasks.ts";
import { setFormat } from "../input_builder.ts";
import {
  aspectRatioArg,
  mediaArg,
  registerTaskTool,
  type TaskDefinition,
  taskInputSchema,
} from "../task_tool.ts";

/** Built-in default model of `edit_image`. */
export const EDIT_IMAGE_MODEL = "fal-ai/flux-pro/kontext";

const args = {
  image: mediaArg("Image to edit"),
  instruction: z.string().min(1).max(10_000).describe(
    'What to change, e.g. "make the sky stormy"',
  ),
  aspect_ratio: aspectRatioArg,
  seed: z.number().int().min(0).optional(),
  format: z.enum(["jpeg", "png"]).optional().describe("jpeg or png"),
};

/** Input schema of `edit_image`. */
export const editImageInput = taskInputSchema(args);

type Args = z.infer<z.ZodObject<typeof args>>;

const task: TaskDefinition<Args> = {
  name: "edit_image",
  title: "Edit an image",
  description: `Edit an image by instruction (default ${EDIT_IMAGE_MODEL}). Seconds; cents.`,
  args,
  mediaArgs: ["image"],
  defaultModel: () => ({ key: "edit_image", endpointId: EDIT_IMAGE_MODEL }),
  build(a, input) {
    input.set("image", a.image, "image_url", "image");
    input.set("instruction", a.instruction, "prompt", "instruction");
    input.set("aspect_ratio", a.aspect_ratio, "aspect_ratio");
    input.set("seed", a.seed, "seed");
    setFormat(input, a.format);
  },
};

/** Registers `edit_image`. */
export function registerEditImage(
  server: McpServer,
  deps: ServerDeps,
  tasks?: McpTaskRegistry,
): void {
  registerTaskTool(server, deps, task, editImageInput, tasks);
}
