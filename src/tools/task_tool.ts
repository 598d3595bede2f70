/**
 * The shared shape of task tools (`generate_image`, `text_to_speech`, …): friendly arguments, a
 * documented default model any caller can override with `model`, media arguments that accept a
 * URL, a local path or a `data:` URI (uploaded first), and validation against the chosen model's
 * own schema before anything is submitted. Fast tools wait for the result; slow ones (video,
 * music) hand back a job after the configured wait.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import { parseEndpointId } from "../fal/endpoint_id.ts";
import { assertModelInput } from "../fal/validate_input.ts";
import { FalMcpError, JsonRpcCode } from "../errors.ts";
import { resolveMediaInput } from "../files/media_input.ts";
import { InputBuilder } from "./input_builder.ts";
import { runJob } from "./run_job.ts";
import type { McpTaskRegistry } from "./mcp_tasks.ts";
import { CREATES_AT_FAL } from "./annotations.ts";
import { guarded } from "./tool_result.ts";
import { describeIssues, listedToolSchema, toolSchema } from "./tool_schema.ts";
import { unlistedArgs } from "./unlisted_args.ts";
import { runOutput } from "./output_schemas.ts";
import { ConfirmationNeeded, confirmTokenArg, gateRun, submitPaid } from "./cost_gate.ts";

/** Arguments every task tool takes besides its own. */
export const commonTaskArgs = {
  model: z.string().min(3).max(200).optional().describe("Other fal endpoint id"),
  save_to: z.string().max(200).optional().describe("Subfolder to also save files in"),
  confirm_token: confirmTokenArg,
};

/** A media argument: a URL, a local file path or a data: URI. */
export function mediaArg(what: string): z.ZodString {
  return z.string().min(1).max(10_000_000).describe(
    `${what}: URL, file path or data: URI`,
  );
}

/** Aspect ratios task tools take (each model gets the nearest one it offers). */
export const ASPECT_RATIOS = [
  "21:9",
  "16:9",
  "3:2",
  "4:3",
  "5:4",
  "1:1",
  "4:5",
  "3:4",
  "2:3",
  "9:16",
  "9:21",
] as const;

/** The `aspect_ratio` argument of task tools. */
export const aspectRatioArg: z.ZodOptional<z.ZodEnum<{ [K in typeof ASPECT_RATIOS[number]]: K }>> =
  z.enum(ASPECT_RATIOS).optional().describe(
    `${ASPECT_RATIOS.join(" ")} (nearest the model takes)`,
  );

/** Everything that makes one task tool. */
export interface TaskDefinition<Args extends Record<string, unknown>> {
  /** Tool name. */
  name: string;
  /** Short human title. */
  title: string;
  /** Description for an LLM: when to use it, rough cost and time. */
  description: string;
  /** The tool's own arguments (the common ones are added). */
  args: z.ZodRawShape;
  /** Default endpoint, by arguments (e.g. video with a start image uses another model). */
  defaultModel(args: Args): { key: string; endpointId: string };
  /** Arguments holding media to upload first. */
  mediaArgs?: (keyof Args & string)[];
  /** Whether runs take minutes (then a job is handed back after the configured wait). */
  slow?: boolean;
  /** Fills the model input from the arguments. */
  build(args: Args, input: InputBuilder): void;
  /** Extra lines describing a finished result (e.g. a transcript). */
  describe?(result: unknown): string[];
}

/** A task tool's model input, ready to submit. */
interface PreparedRun {
  endpointId: string;
  input: Record<string, unknown>;
  notes: string[];
  saveTo: string | undefined;
}

/** Picks the model, uploads media, builds and validates the input. */
async function prepare<Args extends Record<string, unknown>>(
  deps: ServerDeps,
  task: TaskDefinition<Args>,
  raw: Record<string, unknown>,
  signal: AbortSignal,
): Promise<PreparedRun> {
  const args = raw as Args & { model?: string; save_to?: string };
  const fallback = task.defaultModel(args);
  const endpointId = parseEndpointId(
    args.model ?? deps.settings.models[fallback.key] ?? fallback.endpointId,
  ).full;
  const model = await deps.schemas.get(deps.fal, endpointId, signal);
  const resolved = { ...args } as Record<string, unknown>;
  for (const name of task.mediaArgs ?? []) {
    const value = resolved[name];
    if (typeof value === "string") {
      resolved[name] = await resolveMediaInput(value, deps.storage, signal, {
        access: deps.settings.localFiles,
      });
    }
  }
  const builder = new InputBuilder(model.input, endpointId);
  task.build(resolved as Args, builder);
  assertModelInput(endpointId, builder.input, model.input);
  return { endpointId, input: builder.input, notes: builder.notes, saveTo: args.save_to };
}

/** Registers one task tool (and, given a registry, lets it run as an MCP task). */
export function registerTaskTool<Args extends Record<string, unknown>>(
  server: McpServer,
  deps: ServerDeps,
  task: TaskDefinition<Args>,
  inputSchema: z.ZodObject<z.ZodRawShape>,
  tasks?: McpTaskRegistry,
): void {
  const tool = server.registerTool(task.name, {
    title: task.title,
    description: task.description,
    inputSchema: listedToolSchema(inputSchema, unlistedArgs(deps)),
    outputSchema: runOutput,
    annotations: CREATES_AT_FAL,
  }, (raw, ctx) =>
    guarded(task.name, deps, async () => {
      const run = await prepare(deps, task, raw, ctx.mcpReq.signal);
      return await runJob(deps, ctx, run.endpointId, run.input, {
        tool: task.name,
        waitMs: task.slow ? deps.settings.syncWaitMs : undefined,
        saveTo: run.saveTo,
        notes: run.notes,
        describe: task.describe,
        taskCapable: tasks !== undefined,
        gate: { server, args: raw },
      });
    }));
  tasks?.add(task.name, tool, {
    describe: task.describe,
    async start(raw, ctx) {
      const parsed = inputSchema.safeParse(raw);
      if (!parsed.success) {
        throw new FalMcpError(
          `Invalid arguments for ${task.name}: ${describeIssues(parsed.error.issues)}`,
          {
            status: 400,
            code: JsonRpcCode.InvalidParams,
          },
        );
      }
      const run = await prepare(deps, task, parsed.data, ctx.mcpReq.signal);
      const decision = await gateRun(server, deps, ctx, task.name, run.endpointId, raw);
      if (decision.kind === "answer") throw new ConfirmationNeeded(decision);
      const record = await submitPaid(
        deps,
        decision,
        () =>
          deps.jobs.submit(deps, run.endpointId, run.input, {
            tool: task.name,
          }),
      );
      return record;
    },
  });
}

/** Builds a task tool's input schema: its own arguments plus the common ones. */
export function taskInputSchema(args: z.ZodRawShape): z.ZodObject<z.ZodRawShape> {
  return toolSchema(z.object({ ...args, ...commonTaskArgs }));
}
