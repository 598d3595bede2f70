/**
 * `subscriptions/listen` (2026-07-28) for fal-mcp's live views: the caller's jobs as resources
 * (`notifications/resources/updated` for subscribed `fal://jobs/{id}` URIs,
 * `notifications/resources/list_changed` when a job is added or finishes) and, for clients that
 * declare the tasks extension, `notifications/tasks` carrying the full task as it moves.
 *
 * Only the caller's own jobs are honoured: another caller's id is left out of the
 * acknowledgement as if it did not exist. The stream opens with
 * `notifications/subscriptions/acknowledged`, carries keep-alive comments, and ends when the
 * client closes it.
 *
 * @module
 */

import type { JobEvents } from "../jobs/events.ts";
import type { JobRecord } from "../jobs/types.ts";
import type { Principal } from "../principal.ts";
import { formatSseComment, formatSseEvent, SSE_HEADERS } from "./sse_frame.ts";
import {
  declaresTasksExtension,
  feedTasks,
  MISSING_TASKS_EXTENSION,
  SUBSCRIPTION_ID,
} from "./task_feed.ts";
const JOB_URI = /^fal:\/\/jobs\/([^/?#]+)$/;
/** Most resource URIs and task ids one subscription may name. */
export const MAX_LISTEN_IDS = 100;

/** What the listen handler needs from the server. */
export interface ListenOptions {
  /** Job changes. */
  events: JobEvents;
  /** The job owner a caller's jobs are stored under. */
  ownerOf(principal: Principal): string;
  /** The caller's job with this id, or undefined (another caller's job reads as undefined). */
  findJob(id: string, principal: Principal): Promise<JobRecord | undefined>;
  /** A job as a full 2026-07-28 task (with its result once finished). */
  taskOf(record: JobRecord, principal: Principal): Promise<Record<string, unknown>>;
  /** SSE keep-alive comment interval. */
  keepAliveMs: number;
  /** Most open subscriptions (a new one is refused above). Default 1024. */
  maxSubscriptions?: number;
  /** When it aborts (the server stops), every subscription ends with its final result. */
  stopping?: AbortSignal | undefined;
}

/** Serves one `subscriptions/listen` request of a caller. */
export type ListenHandler = (
  message: ListenRequest,
  principal: Principal,
  signal: AbortSignal,
) => Promise<Response>;

/** The part of a `subscriptions/listen` request the handler reads. */
export interface ListenRequest {
  /** JSON-RPC id (also the subscription id). */
  id: string | number;
  /** Params: the filter and the `_meta` envelope. */
  params?: {
    notifications?: unknown;
    _meta?: Record<string, unknown>;
  };
}

/** The filter a listener asked for, as honoured. */
interface Honoured {
  toolsListChanged?: true;
  promptsListChanged?: true;
  resourcesListChanged?: true;
  resourceSubscriptions?: string[];
  taskIds?: string[];
}

function rpcError(id: string | number, code: number, message: string, data?: unknown): Response {
  return Response.json({
    jsonrpc: "2.0",
    id,
    error: { code, message, ...(data === undefined ? {} : { data }) },
  });
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : undefined;
}

/** Creates the `subscriptions/listen` handler. */
export function createListenHandler(options: ListenOptions): ListenHandler {
  const max = options.maxSubscriptions ?? 1024;
  let open = 0;

  return async (message, principal, signal) => {
    const filter = message.params?.notifications;
    if (!filter || typeof filter !== "object" || Array.isArray(filter)) {
      return rpcError(
        message.id,
        -32602,
        "Invalid params: subscriptions/listen needs params.notifications (the filter)",
      );
    }
    if (open >= max) return rpcError(message.id, -32603, "Subscription limit reached");
    const requested = filter as Record<string, unknown>;
    for (const field of ["resourceSubscriptions", "taskIds"]) {
      const list = requested[field];
      if (Array.isArray(list) && list.length > MAX_LISTEN_IDS) {
        return rpcError(
          message.id,
          -32602,
          `Invalid params: notifications.${field} names ${list.length} entries; at most ` +
            `${MAX_LISTEN_IDS} per subscription (open another subscription for more)`,
        );
      }
    }
    const taskIds = stringList(requested.taskIds);
    if (taskIds?.length && !declaresTasksExtension(message.params?._meta)) {
      const { code, message: text, data } = MISSING_TASKS_EXTENSION;
      return rpcError(message.id, code, text, data);
    }

    const owner = options.ownerOf(principal);
    const owned = async (ids: string[]) => {
      const found = await Promise.all(ids.map((id) => options.findJob(id, principal)));
      return ids.filter((_, i) => found[i] !== undefined);
    };
    const honoured: Honoured = {};
    // The tool and prompt lists never change while the server runs: honoured, never sent.
    if (requested.toolsListChanged === true) honoured.toolsListChanged = true;
    if (requested.promptsListChanged === true) honoured.promptsListChanged = true;
    if (requested.resourcesListChanged === true) honoured.resourcesListChanged = true;
    const uris = stringList(requested.resourceSubscriptions) ?? [];
    const jobIds = uris.map((uri) => uri.match(JOB_URI)?.[1]).filter((id): id is string => !!id);
    const ownedJobs = new Set(await owned(jobIds.map(decodeURIComponent)));
    const subscribed = uris.filter((uri) => {
      const id = uri.match(JOB_URI)?.[1];
      return id !== undefined && ownedJobs.has(decodeURIComponent(id));
    });
    if (subscribed.length) honoured.resourceSubscriptions = subscribed;
    const tasks = taskIds?.length ? await owned(taskIds) : [];
    if (tasks.length) honoured.taskIds = tasks;

    const subscriptionId = message.id;
    const encoder = new TextEncoder();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let closed = false;
    let unsubscribe: (() => void) | undefined;
    let stopTasks: (() => void) | undefined;
    let keepAlive: ReturnType<typeof setInterval> | undefined;

    const write = (text: string) => {
      if (closed) return;
      try {
        controller.enqueue(encoder.encode(text));
      } catch {
        teardown(false);
      }
    };
    const notify = (method: string, params: Record<string, unknown>) =>
      write(formatSseEvent({
        event: "message",
        data: JSON.stringify({
          jsonrpc: "2.0",
          method,
          params: { ...params, _meta: { [SUBSCRIPTION_ID]: subscriptionId } },
        }),
      }));
    const teardown = (graceful: boolean) => {
      if (closed) return;
      if (graceful) {
        write(formatSseEvent({
          event: "message",
          data: JSON.stringify({
            jsonrpc: "2.0",
            id: subscriptionId,
            result: { resultType: "complete", _meta: { [SUBSCRIPTION_ID]: subscriptionId } },
          }),
        }));
      }
      closed = true;
      open--;
      unsubscribe?.();
      stopTasks?.();
      clearInterval(keepAlive);
      signal.removeEventListener("abort", onAbort);
      options.stopping?.removeEventListener("abort", onStop);
      try {
        controller.close();
      } catch {
        // already closed by the client
      }
    };
    const onAbort = () => teardown(false);
    const onStop = () => teardown(true);

    const resourceUris = new Set(honoured.resourceSubscriptions ?? []);
    const onJob = (record: JobRecord, kind: string, previous: string | undefined) => {
      if (record.owner !== owner) return;
      const uri = `fal://jobs/${record.id}`;
      if (resourceUris.has(uri)) notify("notifications/resources/updated", { uri });
      const listChanged = kind === "created" || previous !== record.status;
      if (honoured.resourcesListChanged && listChanged) {
        notify("notifications/resources/list_changed", {});
      }
    };

    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
        open++;
        notify("notifications/subscriptions/acknowledged", { notifications: honoured });
        if (Object.keys(honoured).length === 0) return teardown(true);
        unsubscribe = options.events.subscribe(({ record, kind, previous }) =>
          onJob(record, kind, previous)
        );
        if (honoured.taskIds) {
          stopTasks = feedTasks(
            {
              events: options.events,
              owner,
              findJob: (id) => options.findJob(id, principal),
              taskOf: (record) => options.taskOf(record, principal),
            },
            honoured.taskIds,
            (task) => notify("notifications/tasks", task),
          );
        }
        keepAlive = setInterval(() => write(formatSseComment()), options.keepAliveMs);
        if (signal.aborted) return teardown(false);
        if (options.stopping?.aborted) return teardown(true);
        signal.addEventListener("abort", onAbort, { once: true });
        options.stopping?.addEventListener("abort", onStop, { once: true });
      },
      cancel() {
        teardown(false);
      },
    });
    return new Response(body, { status: 200, headers: SSE_HEADERS });
  };
}
