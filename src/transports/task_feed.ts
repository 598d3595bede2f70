/**
 * `notifications/tasks` for one subscription, whatever carries it (`subscriptions/listen` as an
 * SSE stream on HTTP, or lines on stdio): the tasks' current state first, then each change, one
 * task at a time in order, never the same status and message twice in a row.
 *
 * @module
 */

import type { JobEvents } from "../jobs/events.ts";
import type { JobRecord } from "../jobs/types.ts";

/** The tasks extension's identifier (SEP-2663). */
export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks";

/** The `_meta` key that names the subscription a notification belongs to. */
export const SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId";

/** The JSON-RPC error of a task subscription from a client without the tasks extension. */
export const MISSING_TASKS_EXTENSION: {
  code: number;
  message: string;
  data: { requiredCapabilities: { extensions: Record<string, Record<string, never>> } };
} = {
  code: -32021,
  message: `Missing required client capability: declare the ${TASKS_EXTENSION} extension to ` +
    "listen for task notifications",
  data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
};

/** Whether a 2026-07-28 request's `_meta` envelope declares the tasks extension. */
export function declaresTasksExtension(meta: Record<string, unknown> | undefined): boolean {
  const caps = meta?.["io.modelcontextprotocol/clientCapabilities"] as
    | { extensions?: Record<string, unknown> }
    | undefined;
  return !!caps?.extensions && TASKS_EXTENSION in caps.extensions;
}

/** What {@linkcode feedTasks} reads jobs from. */
export interface TaskSource {
  /** Job changes. */
  events: JobEvents;
  /** The job owner whose tasks these are (others' jobs are never fed). */
  owner: string;
  /** The owner's job with this id, or undefined. */
  findJob(id: string): Promise<JobRecord | undefined>;
  /** A job as a full 2026-07-28 task (with its result once finished). */
  taskOf(record: JobRecord): Promise<Record<string, unknown>>;
}

/**
 * Feeds the tasks `ids` (already known to be the owner's) to `emit`: each one's current state,
 * then every change. Answers the function that stops it.
 */
export function feedTasks(
  source: TaskSource,
  ids: Iterable<string>,
  emit: (task: Record<string, unknown>) => void,
): () => void {
  const wanted = new Set(ids);
  const last = new Map<string, string>();
  let stopped = false;
  // One task view at a time, in the order the changes happened; the current states first.
  let queue = Promise.resolve();
  const push = (read: () => Promise<JobRecord | undefined>) => {
    queue = queue.then(async () => {
      const record = stopped ? undefined : await read();
      if (!record) return;
      const task = await source.taskOf(record);
      const key = `${task.status}\u0000${task.statusMessage ?? ""}`;
      if (stopped || last.get(record.id) === key) return;
      last.set(record.id, key);
      emit(task);
    }).catch(() => {});
  };
  // Tasks start from where they stand now, so a late listener misses nothing.
  for (const id of wanted) push(() => source.findJob(id));
  const unsubscribe = source.events.subscribe(({ record }) => {
    if (record.owner === source.owner && wanted.has(record.id)) push(() => Promise.resolve(record));
  });
  return () => {
    stopped = true;
    unsubscribe();
  };
}
