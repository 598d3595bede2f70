/**
 * MCP tasks (task-augmented `tools/call`, protocol revision 2025-11-25) backed by the job
 * machinery. A client that sends `params.task` on a call to a long tool gets a task at once; the
 * task id is the job id, so `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel` read
 * and act on the same persisted job that `get_job` and `cancel_job` see. Clients without task
 * support call the same tools normally and use the job tools.
 *
 * The 2026-07-28 revision moved tasks into the `io.modelcontextprotocol/tasks` extension: there
 * a long tool answers a client that declares the extension with `resultType: "task"` once its
 * job outlives the wait (see `run_job.ts`), and `tasks/get`, `tasks/update` and `tasks/cancel`
 * below answer in that vocabulary. The same handlers serve both eras, by the request's era.
 *
 * @module
 */

import {
  type CallToolResult,
  type McpServer,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  type RegisteredTool,
  type ServerContext,
} from "@modelcontextprotocol/server";
import type { ServerDeps } from "../context.ts";
import { errorMessage, FalMcpError } from "../errors.ts";
import { isFinal, type JobRecord } from "../jobs/types.ts";
import { presentJob } from "./present_job.ts";
import { ConfirmationNeeded } from "./cost_gate.ts";
import { CONFIRM_KEY } from "../costs/cost_guard.ts";
import {
  declaresTasksExtension,
  isModernRequest,
  modernTask,
  pollIntervalMs,
  statusMessage,
  TASKS_EXTENSION,
} from "./task_view.ts";
import { z } from "zod";
import { holdingShutdown, restartingError, untilStopping } from "./shutdown_wait.ts";

/** How a long tool starts as a task: submit its job without waiting. */
export interface TaskStarter {
  /** Validates the arguments, submits the job and answers its record. */
  start(args: Record<string, unknown>, ctx: ServerContext): Promise<JobRecord>;
  /** Extra lines describing a finished result (as the tool itself would show). */
  describe?: ((result: unknown) => string[]) | undefined;
}

/** The tools of one server that can run as MCP tasks. */
export class McpTaskRegistry {
  readonly #starters = new Map<string, TaskStarter>();

  /** Marks `tool` as task-capable (`execution.taskSupport: "optional"`). */
  add(name: string, tool: RegisteredTool, starter: TaskStarter): void {
    tool.execution = { taskSupport: "optional" };
    this.#starters.set(name, starter);
  }

  /** The starter of a tool, if it is task-capable. */
  get(name: string): TaskStarter | undefined {
    return this.#starters.get(name);
  }

  /** The describer of the tool that made a job. */
  describerFor(record: JobRecord): ((result: unknown) => string[]) | undefined {
    return record.tool ? this.#starters.get(record.tool)?.describe : undefined;
  }
}

/** Server capabilities announcing task-augmented tool calls. */
export const TASK_CAPABILITIES = {
  list: {},
  cancel: {},
  requests: { tools: { call: {} } },
} as const;

/** Server capability extensions: the 2026-07-28 tasks extension. */
export const TASK_EXTENSIONS: Record<string, Record<string, never>> = { [TASKS_EXTENSION]: {} };

const RELATED_TASK = "io.modelcontextprotocol/related-task";

/** A job as an MCP task. */
function toTask(record: JobRecord): Record<string, unknown> {
  const status = record.status === "COMPLETED"
    ? "completed"
    : record.status === "FAILED" || record.status === "UNKNOWN"
    ? "failed"
    : record.status === "CANCELLED"
    ? "cancelled"
    : "working";
  const message = statusMessage(record);
  return {
    taskId: record.id,
    status,
    ...(message ? { statusMessage: message } : {}),
    createdAt: record.createdAt,
    lastUpdatedAt: record.updatedAt,
    ttl: null,
    pollInterval: pollIntervalMs(record) ?? 1000,
  };
}

const TASK_PARAMS = z.looseObject({ taskId: z.string().min(1) });
const UPDATE_PARAMS = z.looseObject({
  taskId: z.string().min(1),
  inputResponses: z.record(z.string(), z.unknown()).optional(),
});

/** Refuses a 2026-07-28 task request from a client that did not declare the extension. */
function requireExtension(ctx: ServerContext): void {
  if (declaresTasksExtension(ctx)) return;
  throw new MissingRequiredClientCapabilityError(
    { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
    `Missing required client capability: declare the ${TASKS_EXTENSION} extension to use tasks`,
  );
}

/**
 * A job as a 2026-07-28 `DetailedTask`: a finished one carries the tool result it ended with
 * (a fal failure is a completed call whose result is a tool error, per the extension).
 */
export async function detailedTask(
  record: JobRecord,
  deps: ServerDeps,
  registry: McpTaskRegistry | undefined,
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  const task = modernTask(record);
  if (record.status !== "COMPLETED" && record.status !== "FAILED") return task;
  const result = await presentJob(record, deps, {
    describe: registry?.describerFor(record),
    signal,
  });
  return { ...task, result };
}

/**
 * Asks a 2025-era client to confirm a run's cost through `elicitation/create`; answers the
 * context carrying the reply for the second start, or undefined when the confirmation cannot be
 * asked this way (no elicitation: the token answer is given instead).
 */
async function confirmByElicitation(
  deps: ServerDeps,
  ctx: ServerContext,
  needed: ConfirmationNeeded,
): Promise<ServerContext | undefined> {
  const result = needed.decision.kind === "answer" ? needed.decision.result : undefined;
  const asked = result as
    | { inputRequests?: Record<string, { params?: unknown }>; requestState?: string }
    | undefined;
  const request = asked?.inputRequests?.[CONFIRM_KEY]?.params;
  if (!request || !asked?.requestState || !deps.costs) return undefined;
  const reply = await ctx.mcpReq.elicitInput(
    request as Parameters<typeof ctx.mcpReq.elicitInput>[0],
  );
  const state = await deps.costs.verifyState(asked.requestState, ctx);
  return {
    ...ctx,
    mcpReq: {
      ...ctx.mcpReq,
      inputResponses: { [CONFIRM_KEY]: reply },
      requestState: (() => state) as ServerContext["mcpReq"]["requestState"],
    },
  };
}

function taskId(params: unknown): string {
  const id = (params as { taskId?: unknown } | undefined)?.taskId;
  if (typeof id !== "string" || id === "") {
    throw new ProtocolError(ProtocolErrorCode.InvalidParams, "taskId is required");
  }
  return id;
}

async function jobFor(deps: ServerDeps, params: unknown): Promise<JobRecord> {
  try {
    return await deps.jobs.get(deps, taskId(params));
  } catch (error) {
    if (error instanceof FalMcpError) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, error.message);
    }
    throw error;
  }
}

/**
 * Installs task support on a server before its tools are registered: task-augmented calls of
 * registered task-capable tools start a job and answer `{task}`; the `tasks/*` methods serve
 * jobs. Answers the registry the tools add themselves to.
 */
export function installMcpTasks(server: McpServer, deps: ServerDeps): McpTaskRegistry {
  const registry = new McpTaskRegistry();
  const low = server.server;
  const setRequestHandler = low.setRequestHandler.bind(low) as (
    method: string,
    handler: (request: { params?: Record<string, unknown> }, ctx: ServerContext) => unknown,
  ) => void;

  // McpServer installs its own tools/call handler on the first registerTool: wrap it so a
  // task-augmented call to a task-capable tool becomes a task instead of a blocking call.
  (low as unknown as { setRequestHandler: typeof setRequestHandler }).setRequestHandler = (
    method,
    handler,
  ) => {
    if (method !== "tools/call") return setRequestHandler(method, handler);
    return setRequestHandler(method, async (request, ctx) => {
      const params = request.params ?? {};
      // 2026-07-28 has no task-augmented call: there the server decides (see run_job.ts).
      const starter = params.task && !isModernRequest(ctx)
        ? registry.get(String(params.name))
        : undefined;
      if (!starter) return await handler(request, ctx);
      const args = (params.arguments ?? {}) as Record<string, unknown>;
      try {
        let record: JobRecord;
        try {
          record = await starter.start(args, ctx);
        } catch (error) {
          if (!(error instanceof ConfirmationNeeded)) throw error;
          // The cost must be confirmed first: ask now (2025 clients take elicitation/create
          // requests), then start the task with the answer.
          const confirmed = await confirmByElicitation(deps, ctx, error);
          if (!confirmed) return error.decision.kind === "answer" ? error.decision.result : {};
          record = await starter.start(args, confirmed);
        }
        // The SDK validates every tools/call answer as a tool result, which needs `content`;
        // the task rides along, which is what a task-augmented caller reads.
        return {
          task: toTask(record),
          content: [{
            type: "text",
            text: `Started as task ${record.id}; poll tasks/get, or call get_job with this id.`,
          }],
        };
      } catch (error) {
        if (error instanceof ConfirmationNeeded && error.decision.kind === "answer") {
          return error.decision.result; // declined
        }
        const message = errorMessage(error);
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, message);
      }
    });
  };

  // tasks/get and tasks/cancel are registered with their own params schema: that is how the SDK
  // lets the extension's re-defined methods through on 2026-07-28 requests as well.
  const setTaskHandler = setRequestHandler as unknown as (
    method: string,
    schemas: { params: z.ZodType },
    handler: (params: Record<string, unknown>, ctx: ServerContext) => unknown,
  ) => void;

  // On 2026-07-28 requests the capability is checked first: a client that did not declare the
  // extension learns that, whatever the task id.
  setTaskHandler("tasks/get", { params: TASK_PARAMS }, async (params, ctx) => {
    if (isModernRequest(ctx)) requireExtension(ctx);
    const record = await jobFor(deps, params);
    if (!isModernRequest(ctx)) return toTask(record);
    return await detailedTask(record, deps, registry, ctx.mcpReq.signal);
  });

  setTaskHandler("tasks/cancel", { params: TASK_PARAMS }, async (params, ctx) => {
    if (isModernRequest(ctx)) requireExtension(ctx);
    const record = await jobFor(deps, params);
    if (isModernRequest(ctx)) {
      // The extension's cancel is an acknowledgement; a finished task simply stays as it is.
      if (!isFinal(record.status)) await deps.jobs.cancel(deps, record.id);
      return {};
    }
    if (isFinal(record.status)) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Cannot cancel task ${record.id}: it already ${record.status.toLowerCase()}`,
      );
    }
    const { record: updated } = await deps.jobs.cancel(deps, record.id);
    return toTask(updated);
  });

  // A job never asks for input once it runs (cost is confirmed before it is submitted), so an
  // update has nothing outstanding to answer: it is acknowledged for a known task.
  setTaskHandler("tasks/update", { params: UPDATE_PARAMS }, async (params, ctx) => {
    requireExtension(ctx);
    await jobFor(deps, params);
    return {};
  });

  setRequestHandler("tasks/list", async (request) => {
    const cursor = request.params?.cursor;
    const page = await deps.jobs.list({
      owner: deps.principal.id,
      limit: 50,
      cursor: typeof cursor === "string" ? cursor : undefined,
    });
    return {
      tasks: page.jobs.map(toTask),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    };
  });

  setRequestHandler("tasks/result", async (request, ctx): Promise<CallToolResult> => {
    const record = await jobFor(deps, request.params);
    const final = await holdingShutdown(
      deps,
      () => deps.jobs.wait(deps, record.id, { signal: untilStopping(deps, ctx.mcpReq.signal) }),
    );
    if (deps.stopping?.aborted && !isFinal(final.status)) throw restartingError(final.id);
    const result = await presentJob(final, deps, {
      describe: registry.describerFor(final),
      signal: ctx.mcpReq.signal,
    });
    return { ...result, _meta: { ...result._meta, [RELATED_TASK]: { taskId: final.id } } };
  });

  return registry;
}
