/**
 * `generate_music`: music and sound from a prompt. Slow: answers with a job handle when the run
 * outlasts the configured wait.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../../context.ts";
import type { McpTaskRegistry } from "../mcp_tasks.ts";
import { registerTaskTool, type TaskDefinition, taskInputSchema } from "../task_tool.ts";

/** Built-in default model of `generate_music`. */
export const GENERATE_MUSIC_MODEL = "fal-ai/lyria2";

const args = {
  prompt: z.string().min(1).max(5000).describe('Style, mood, instruments, e.g. "calm lo-fi piano"'),
  duration: z.number().min(1).max(600).optional().describe(
    "Seconds (if the model takes it)",
  ),
  negative_prompt: z.string().max(5000).optional().describe("What to avoid"),
  seed: z.number().int().min(0).optional(),
};

/** Input schema of `generate_music`. */
export const generateMusicInput = taskInputSchema(args);

type Args = z.infer<z.ZodObject<typeof args>>;

const task: TaskDefinition<Args> = {
  name: "generate_music",
  title: "Generate music or audio",
  description:
    `Music or sound from a prompt (default ${GENERATE_MUSIC_MODEL}). Minutes; cents to $1. ` +
    "May answer a job_id for get_job.",
  args,
  slow: true,
  defaultModel: () => ({ key: "generate_music", endpointId: GENERATE_MUSIC_MODEL }),
  build(a, input) {
    input.set("prompt", a.prompt, "prompt");
    input.set("duration", a.duration, "duration", "seconds_total", "music_length_seconds");
    input.set("negative_prompt", a.negative_prompt, "negative_prompt");
    input.set("seed", a.seed, "seed");
  },
};

/** Registers `generate_music`. */
export function registerGenerateMusic(
  server: McpServer,
  deps: ServerDeps,
  tasks?: McpTaskRegistry,
): void {
  registerTaskTool(server, deps, task, generateMusicInput, tasks);
}
