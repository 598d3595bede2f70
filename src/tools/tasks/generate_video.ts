/**
 * `generate_video`: text (and optionally a start image) to video. Slow: answers with a job
 * handle when the run outlasts the configured wait.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../../context.ts";
import type { McpTaskRegistry } from "../mcp_tasks.ts";
import type { InputBuilder } from "../input_builder.ts";
import { mediaArg, registerTaskTool, type TaskDefinition, taskInputSchema } from "../task_tool.ts";

/** Built-in default text-to-video model. */
export const TEXT_TO_VIDEO_MODEL = "fal-ai/kling-video/v2/master/text-to-video";
/** Built-in default image-to-video model (used when a start image is given). */
export const IMAGE_TO_VIDEO_MODEL = "fal-ai/wan-i2v";

const args = {
  prompt: z.string().min(1).max(10_000).describe("What happens in the video"),
  image: mediaArg("Optional start frame").optional(),
  duration: z.number().min(1).max(60).optional().describe("Length in seconds (e.g. 5 or 10)"),
  aspect_ratio: z.string().regex(/^\d+:\d+$/).optional().describe('e.g. "16:9", "9:16", "1:1"'),
  negative_prompt: z.string().max(5000).optional().describe("What to avoid"),
  seed: z.number().int().min(0).optional().describe("Seed for reproducible results"),
};

/** Input schema of `generate_video`. */
export const generateVideoInput = taskInputSchema(args);

type Args = z.infer<z.ZodObject<typeof args>>;

/** Sets a duration in seconds on whatever form the model takes (enum string, number, frames). */
function setDuration(input: InputBuilder, seconds: number | undefined): void {
  if (seconds === undefined) return;
  const allowed = input.allowed("duration");
  if (allowed) {
    // Models list allowed lengths as strings ("5", "10"): pick the nearest.
    const nearest = allowed.map(String).sort((a, b) =>
      Math.abs(Number(a) - seconds) - Math.abs(Number(b) - seconds)
    )[0];
    input.set("duration", nearest, "duration");
  } else if (input.property("duration")) {
    input.set(
      "duration",
      input.property("duration")?.type === "string" ? String(seconds) : seconds,
      "duration",
    );
  } else if (input.property("num_frames")) {
    const fps = Number(input.property("frames_per_second")?.default ?? 16);
    input.set("duration", Math.round(seconds * fps), "num_frames");
  } else {
    input.set("duration", seconds, "duration");
  }
}

const task: TaskDefinition<Args> = {
  name: "generate_video",
  title: "Generate a video",
  description: "Create a short video from a prompt, optionally starting from an image " +
    `(defaults: ${TEXT_TO_VIDEO_MODEL} for text, ${IMAGE_TO_VIDEO_MODEL} with an image; any ` +
    "video endpoint via model). Takes 1-5+ minutes and can cost around a dollar or more. If it " +
    "is not done within the server's wait, you get a job_id: call get_job later for the video.",
  args,
  mediaArgs: ["image"],
  slow: true,
  defaultModel: (a) =>
    a.image
      ? { key: "generate_video_from_image", endpointId: IMAGE_TO_VIDEO_MODEL }
      : { key: "generate_video", endpointId: TEXT_TO_VIDEO_MODEL },
  build(a, input) {
    input.set("prompt", a.prompt, "prompt");
    input.set("image", a.image, "image_url", "start_image_url", "image");
    setDuration(input, a.duration);
    input.set("aspect_ratio", a.aspect_ratio, "aspect_ratio");
    input.set("negative_prompt", a.negative_prompt, "negative_prompt");
    input.set("seed", a.seed, "seed");
  },
};

/** Registers `generate_video`. */
export function registerGenerateVideo(
  server: McpServer,
  deps: ServerDeps,
  tasks?: McpTaskRegistry,
): void {
  registerTaskTool(server, deps, task, generateVideoInput, tasks);
}
