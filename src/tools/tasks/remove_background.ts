/**
 * `remove_background`: cut out the subject of an image.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import type { z } from "zod";
import type { ServerDeps } from "../../context.ts";
import type { McpTaskRegistry } from "../mcp_tasks.ts";
import { mediaArg, registerTaskTool, type TaskDefinition, taskInputSchema } from "../task_tool.ts";

/** Built-in default model of `remove_background`. */
export const REMOVE_BACKGROUND_MODEL = "fal-ai/imageutils/rembg";

const args = { image: mediaArg("Image") };

/** Input schema of `remove_background`. */
export const removeBackgroundInput = taskInputSchema(args);

type Args = z.infer<z.ZodObject<typeof args>>;

const task: TaskDefinition<Args> = {
  name: "remove_background",
  title: "Remove an image's background",
  description:
    `Cut out an image's subject as a PNG (default ${REMOVE_BACKGROUND_MODEL}). Under a cent.`,
  args,
  mediaArgs: ["image"],
  defaultModel: () => ({ key: "remove_background", endpointId: REMOVE_BACKGROUND_MODEL }),
  build(a, input) {
    input.set("image", a.image, "image_url", "image");
  },
};

/** Registers `remove_background`. */
export function registerRemoveBackground(
  server: McpServer,
  deps: ServerDeps,
  tasks?: McpTaskRegistry,
): void {
  registerTaskTool(server, deps, task, removeBackgroundInput, tasks);
}
