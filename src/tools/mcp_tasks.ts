/**
 * MCP tasks (task-augmented `tools/call`, protocol revision 2025-11-25) backed by the job
 * machinery. A client that sends `params.task` on a call to a long tool gets a task at once; the
 * task id is the job id, so `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel` read
 * and act on the same persisted job that `get_job` and `cancel_job` see. Clients without task
 * support call the same tools normally and use the job tools.
 *
 * The 2026-07-28 revision moved tasks out of the core protocol; the SDK strips the task
 * vocabulary from 2026-era traffic, so there the tools behave as plain calls.
 *
 * @module
 */

import {
  type CallToolResult,
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  type RegisteredTool,
  type ServerContext,
} from "@modelcontextprotocol/server";
import type { ServerDeps } from "../context.ts";
import { FalMcpError } from "../errors.ts";
import { isFinal, type JobRecord } from "../jobs/types.ts";
import { presentJob } from "./present_job.ts";
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

/** Suggested polling interval for `tasks/get`, in ms. */
const POLL_INTERVAL_MS = 1000;

const RELATED_TASK = "io.modelcontextprotocol/related-task";

/** A job as an MCP task. */
function toTask(record: JobRecord): Record<string, unknown> {
  const status = record.status === "COMPLETED"
    ? "completed"
    : record.status === "FAILED"
    ? "failed"
    : record.status === "CANCELLED"
    ? "cancelled"
    : "working";
  const message = record.status === "IN_QUEUE"
    ? `In fal's queue${
      record.queuePosition !== undefined ? ` at position ${record.queuePosition}` : ""
    }`
    : record.status === "IN_PROGRESS"
    ? record.logs.at(-1)?.message ?? "Running"
    : record.error;
  return {
    taskId: record.id,
    status,
    ...(message ? { statusMessage: message } : {}),
    createdAt: record.createdAt,
    lastUpdatedAt: record.updatedAt,
    ttl: null,
    pollInterval: POLL_INTERVAL_MS,
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
      const starter = params.task ? registry.get(String(params.name)) : undefined;
      if (!starter) return await handler(request, ctx);
      try {
        const record = await starter.start(
          (params.arguments ?? {}) as Record<string, unknown>,
          ctx,
        );
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
        const message = error instanceof Error ? error.message : String(error);
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, message);
      }
    });
  };

  setRequestHandler("tasks/get", async (request) => toTask(await jobFor(deps, request.params)));

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

  setRequestHandler("tasks/cancel", async (request) => {
    const record = await jobFor(deps, request.params);
    if (isFinal(record.status)) {
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `Cannot cancel task ${record.id}: it already ${record.status.toLowerCase()}`,
      );
    }
    const { record: updated } = await deps.jobs.cancel(deps, record.id);
    return toTask(updated);
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
