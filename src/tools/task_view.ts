/**
 * How a job reads as a task, in both task vocabularies: the 2025-11-25 core tasks and the
 * 2026-07-28 `io.modelcontextprotocol/tasks` extension. One status line (queue position, time
 * running, progress and the last log line), one polling hint derived from the queue position.
 *
 * @module
 */

import type { ServerContext } from "@modelcontextprotocol/server";
import type { JobRecord } from "../jobs/types.ts";

/** The identifier of the 2026-07-28 tasks extension. */
export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";

/** How long a task's record is kept: job records are never purged, so there is no limit. */
export const TASK_TTL_MS: number | null = null;

/** Whether a request is served under the 2026-07-28 rules (it carries the `_meta` envelope). */
export function isModernRequest(ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  return typeof envelope?.["io.modelcontextprotocol/protocolVersion"] === "string";
}

/** The client capabilities a 2026-07-28 request declares, if any. */
export function requestCapabilities(ctx: ServerContext): Record<string, unknown> | undefined {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const caps = envelope?.["io.modelcontextprotocol/clientCapabilities"];
  return caps && typeof caps === "object" ? caps as Record<string, unknown> : undefined;
}

/** Whether a 2026-07-28 request's client declares the tasks extension. */
export function declaresTasksExtension(ctx: ServerContext): boolean {
  const extensions = requestCapabilities(ctx)?.extensions as Record<string, unknown> | undefined;
  return isModernRequest(ctx) && !!extensions && TASKS_EXTENSION in extensions;
}

/** A percentage found in a log line ("45%", "step 9/20"), as a whole number. */
function progressOf(line: string | undefined): number | undefined {
  if (!line) return undefined;
  const percent = line.match(/(\d{1,3}(?:\.\d+)?)\s*%/);
  if (percent) return Math.min(100, Math.round(Number(percent[1])));
  const steps = line.match(/\b(\d+)\s*\/\s*(\d+)\b/);
  if (steps && Number(steps[2]) > 0) {
    return Math.min(100, Math.round(100 * Number(steps[1]) / Number(steps[2])));
  }
  return undefined;
}

/** The status line of a job: where it waits, how far it got, what it last logged. */
export function statusMessage(record: JobRecord, now: number = Date.now()): string | undefined {
  const last = record.logs.at(-1)?.message;
  switch (record.status) {
    case "IN_QUEUE":
      return `Waiting in fal's queue${
        record.queuePosition !== undefined ? ` at position ${record.queuePosition}` : ""
      }`;
    case "IN_PROGRESS": {
      const seconds = Math.max(0, Math.round((now - Date.parse(record.createdAt)) / 1000));
      const progress = progressOf(last);
      return [
        `Running on fal for ${seconds} s`,
        progress !== undefined ? `${progress}% done` : undefined,
        last ? `last log: ${last}` : undefined,
      ].filter(Boolean).join("; ");
    }
    case "COMPLETED":
      return `Completed on ${record.endpointId}`;
    default:
      return record.error;
  }
}

/**
 * Suggested polling interval: one second plus one per job ahead in fal's queue (capped at 30 s),
 * two seconds while running; nothing once final.
 */
export function pollIntervalMs(record: JobRecord): number | undefined {
  if (record.status === "IN_QUEUE") {
    return Math.min(30_000, 1000 * (1 + Math.max(0, record.queuePosition ?? 0)));
  }
  return record.status === "IN_PROGRESS" ? 2000 : undefined;
}

/** The 2026-07-28 task status of a job (a fal failure is a completed call with a tool error). */
export function modernTaskStatus(record: JobRecord): "working" | "completed" | "cancelled" {
  return record.status === "CANCELLED"
    ? "cancelled"
    : record.status === "COMPLETED" || record.status === "FAILED"
    ? "completed"
    : "working";
}

/** The fields every 2026-07-28 task carries (without the status-specific payload). */
export function modernTask(record: JobRecord): Record<string, unknown> {
  const message = statusMessage(record);
  const poll = pollIntervalMs(record);
  return {
    taskId: record.id,
    status: modernTaskStatus(record),
    ...(message ? { statusMessage: message } : {}),
    createdAt: record.createdAt,
    lastUpdatedAt: record.updatedAt,
    ttlMs: TASK_TTL_MS,
    ...(poll !== undefined ? { pollIntervalMs: poll } : {}),
  };
}

/** The `CreateTaskResult` a 2026-07-28 `tools/call` answers when its job outlives the wait. */
export function createTaskResult(record: JobRecord): Record<string, unknown> {
  return { resultType: "task", ...modernTask(record) };
}
