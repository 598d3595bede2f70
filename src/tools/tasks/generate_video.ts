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
import type { JsonSchema } from "../../fal/openapi.ts";
import {
  aspectRatioArg,
  mediaArg,
  registerTaskTool,
  type TaskDefinition,
  taskInputSchema,
} from "../task_tool.ts";

/** Built-in default text-to-video model. */
export const TEXT_TO_VIDEO_MODEL = "fal-ai/kling-video/v2/master/text-to-video";
/** Built-in default image-to-video model (used when a start image is given). */
export const IMAGE_TO_VIDEO_MODEL = "fal-ai/wan-i2v";

const args = {
  prompt: z.string().min(1).max(10_000).describe("What happens in the video"),
  image: mediaArg("Start frame").optional(),
  duration: z.number().min(1).max(60).optional().describe(
    "Seconds (nearest the model makes)",
  ),
  aspect_ratio: aspectRatioArg,
  negative_prompt: z.string().max(5000).optional().describe("What to avoid"),
  seed: z.number().int().min(0).optional(),
};

/** Input schema of `generate_video`. */
export const generateVideoInput = taskInputSchema(args);

type Args = z.infer<z.ZodObject<typeof args>>;

function bounds(schema: JsonSchema | undefined, fallback: number): [number, number, number] {
  const def = typeof schema?.default === "number" ? schema.default : fallback;
  const min = typeof schema?.minimum === "number" ? schema.minimum : Math.min(def, 1);
  const max = typeof schema?.maximum === "number" ? schema.maximum : Math.max(def, 1000);
  return [min, max, def];
}

/**
 * Sets a length in seconds on models that take a frame count: picks the frame count and frame
 * rate, within the model's bounds, whose length is nearest `seconds`; the usual frame rate is
 * kept when it comes within a tenth of a second.
 */
function setFrames(input: InputBuilder, seconds: number): void {
  const [fMin, fMax] = bounds(input.property("num_frames"), 81);
  const fpsSchema = input.property("frames_per_second");
  const [pMin, pMax, pDefault] = fpsSchema ? bounds(fpsSchema, 16) : [16, 16, 16];
  const at = (fps: number) => {
    const frames = Math.min(fMax, Math.max(fMin, Math.round(seconds * fps)));
    return { frames, fps, error: Math.abs(frames / fps - seconds) };
  };
  let best = at(pDefault);
  // Another frame rate only when the usual one cannot come within a tenth of a second.
  if (best.error > 0.1) {
    for (let fps = Math.ceil(pMin); fps <= Math.floor(pMax); fps++) {
      const candidate = at(fps);
      const nearer = candidate.error < best.error - 1e-9 ||
        (Math.abs(candidate.error - best.error) <= 1e-9 &&
          Math.abs(fps - pDefault) < Math.abs(best.fps - pDefault));
      if (nearer) best = candidate;
    }
  }
  input.set("duration", best.frames, "num_frames");
  if (fpsSchema && best.fps !== pDefault) input.set("duration", best.fps, "frames_per_second");
  const length = best.frames / best.fps;
  if (Math.abs(length - seconds) > 0.05) {
    input.note(
      `${input.endpointId} makes ${fMin}-${fMax} frames at ${pMin}-${pMax} fps, so duration ` +
        `${seconds} became ${best.frames} frames at ${best.fps} fps (${length.toFixed(1)} s).`,
    );
  }
}

/** Sets a duration in seconds on whatever form the model takes (enum, number, frame count). */
function setDuration(input: InputBuilder, seconds: number | undefined): void {
  if (seconds === undefined) return;
  if (!input.property("duration") && input.property("num_frames")) setFrames(input, seconds);
  else input.set("duration", seconds, "duration");
}

const task: TaskDefinition<Args> = {
  name: "generate_video",
  title: "Generate a video",
  description: `Video from a prompt or a start image (default ${TEXT_TO_VIDEO_MODEL}; ` +
    `${IMAGE_TO_VIDEO_MODEL} with an image). Minutes; $1+. May answer a job_id for get_job.`,
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
