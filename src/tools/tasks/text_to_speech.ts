/**
 * `text_to_speech`: speak a text.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../../context.ts";
import type { McpTaskRegistry } from "../mcp_tasks.ts";
import { registerTaskTool, type TaskDefinition, taskInputSchema } from "../task_tool.ts";

/** Built-in default model of `text_to_speech`. */
export const TEXT_TO_SPEECH_MODEL = "fal-ai/kokoro/american-english";

const args = {
  text: z.string().min(1).max(20_000),
  voice: z.string().max(100).optional().describe(
    "A voice of the model, e.g. af_heart (see get_model_schema)",
  ),
  speed: z.number().min(0.25).max(4).optional().describe("1 = normal"),
};

/** Input schema of `text_to_speech`. */
export const textToSpeechInput = taskInputSchema(args);

type Args = z.infer<z.ZodObject<typeof args>>;

const task: TaskDefinition<Args> = {
  name: "text_to_speech",
  title: "Text to speech",
  description:
    `Speech from text (default ${TEXT_TO_SPEECH_MODEL}). Seconds; ~1¢ per 1000 characters.`,
  args,
  defaultModel: () => ({ key: "text_to_speech", endpointId: TEXT_TO_SPEECH_MODEL }),
  build(a, input) {
    input.set("text", a.text, "prompt", "text", "input");
    input.set("voice", a.voice, "voice");
    input.set("speed", a.speed, "speed");
  },
};

/** Registers `text_to_speech`. */
export function registerTextToSpeech(
  server: McpServer,
  deps: ServerDeps,
  tasks?: McpTaskRegistry,
): void {
  registerTaskTool(server, deps, task, textToSpeechInput, tasks);
}
