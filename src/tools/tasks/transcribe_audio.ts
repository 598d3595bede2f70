/**
 * `transcribe_audio`: speech to text with timestamps.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../../context.ts";
import type { McpTaskRegistry } from "../mcp_tasks.ts";
import { mediaArg, registerTaskTool, type TaskDefinition, taskInputSchema } from "../task_tool.ts";

/** Built-in default model of `transcribe_audio`. */
export const TRANSCRIBE_AUDIO_MODEL = "fal-ai/whisper";

const args = {
  audio: mediaArg("Audio or video"),
  language: z.string().min(2).max(10).optional().describe(
    'e.g. "en" (default: detected)',
  ),
  translate: z.boolean().optional().describe("Into English"),
};

/** Input schema of `transcribe_audio`. */
export const transcribeAudioInput = taskInputSchema(args);

type Args = z.infer<z.ZodObject<typeof args>>;

interface Chunk {
  timestamp?: [number | null, number | null];
  text?: string;
}

function seconds(value: number | null | undefined): string {
  return typeof value === "number" ? value.toFixed(2) : "?";
}

/** The transcript with one timestamped line per chunk. */
export function describeTranscript(result: unknown): string[] {
  const { text, chunks, inferred_languages: languages } = (result ?? {}) as {
    text?: string;
    chunks?: Chunk[];
    inferred_languages?: string[];
  };
  const lines: string[] = [];
  if (languages?.length) lines.push(`Language: ${languages.join(", ")}`);
  if (chunks?.length) {
    lines.push("Transcript:");
    for (const chunk of chunks) {
      lines.push(
        `[${seconds(chunk.timestamp?.[0])}-${seconds(chunk.timestamp?.[1])}] ${
          chunk.text?.trim() ?? ""
        }`,
      );
    }
  } else if (text) {
    lines.push(`Transcript: ${text}`);
  }
  return lines;
}

const task: TaskDefinition<Args> = {
  name: "transcribe_audio",
  title: "Transcribe audio",
  description:
    `Speech to timestamped text (default ${TRANSCRIBE_AUDIO_MODEL}). ~1¢ per audio minute.`,
  args,
  mediaArgs: ["audio"],
  defaultModel: () => ({ key: "transcribe_audio", endpointId: TRANSCRIBE_AUDIO_MODEL }),
  build(a, input) {
    input.set("audio", a.audio, "audio_url", "audio");
    input.set("language", a.language, "language");
    if (a.translate !== undefined) {
      input.set("translate", a.translate ? "translate" : "transcribe", "task");
    }
  },
  describe: describeTranscript,
};

/** Registers `transcribe_audio`. */
export function registerTranscribeAudio(
  server: McpServer,
  deps: ServerDeps,
  tasks?: McpTaskRegistry,
): void {
  registerTaskTool(server, deps, task, transcribeAudioInput, tasks);
}
