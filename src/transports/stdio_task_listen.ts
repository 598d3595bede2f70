/**
 * `notifications/tasks` on stdio for 2026-07-28 clients that declare the tasks extension, as
 * `subscriptions/listen` gives them on HTTP. The SDK's stdio entry serves `subscriptions/listen`
 * itself and honours only the list and resource fields of the filter; this sits on the stdio wire
 * in front of it and adds the `taskIds` part:
 *
 * - inbound, a listen request naming `taskIds` from a client without the extension is answered
 *   with -32021 and goes no further; otherwise its ids are checked against the caller's jobs
 *   (another caller's id is left out, as if it did not exist) and the request goes on to the SDK;
 * - outbound, the SDK's `notifications/subscriptions/acknowledged` for it gains the honoured
 *   `taskIds`, and from then on each task's state is written as `notifications/tasks` stamped with
 *   the subscription id, until the client cancels the subscription (`notifications/cancelled`),
 *   the server ends it, or the connection closes.
 *
 * @module
 */

import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import {
  declaresTasksExtension,
  feedTasks,
  MISSING_TASKS_EXTENSION,
  SUBSCRIPTION_ID,
  type TaskSource,
} from "./task_feed.ts";
import { MAX_LISTEN_IDS } from "./listen.ts";

type Id = string | number;

interface Subscription {
  /** The caller's task ids among those asked for. */
  owned: Promise<string[]>;
  /** Stops the feed once it runs. */
  stop?: () => void;
}

/** The hooks a stdio wire calls (see `LineCappedStdioTransport`). */
export interface StdioWireHooks {
  /**
   * Sees each inbound message before the SDK: answers a reply to write instead of delivering the
   * message, or undefined to deliver it.
   */
  inbound(message: JSONRPCMessage): JSONRPCMessage | undefined;
  /** Sees each outbound message and writes it (changed or not) with `write`. */
  outbound(
    message: JSONRPCMessage,
    write: (message: JSONRPCMessage) => Promise<void>,
  ): Promise<void>;
  /** The connection closed. */
  closed(): void;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Task subscriptions of one stdio connection. */
export class StdioTaskListen implements StdioWireHooks {
  readonly #source: TaskSource;
  readonly #subscriptions = new Map<Id, Subscription>();
  #write: ((message: JSONRPCMessage) => Promise<void>) | undefined;

  /** Task subscriptions fed from `source` (the connection's caller). */
  constructor(source: TaskSource) {
    this.#source = source;
  }

  /** Handles `subscriptions/listen` with `taskIds` and the cancellation of one. */
  inbound(message: JSONRPCMessage): JSONRPCMessage | undefined {
    const request = message as { id?: Id; method?: string; params?: Record<string, unknown> };
    if (request.method === "notifications/cancelled") {
      const id = (request.params as { requestId?: Id } | undefined)?.requestId;
      if (id !== undefined) this.#end(id);
      return undefined;
    }
    if (request.method !== "subscriptions/listen" || request.id === undefined) return undefined;
    const filter = request.params?.notifications;
    const taskIds = isRecord(filter) && Array.isArray(filter.taskIds)
      ? filter.taskIds.filter((id): id is string => typeof id === "string")
      : [];
    if (taskIds.length === 0) return undefined;
    const refuse = (error: { code: number; message: string; data?: unknown }) =>
      ({ jsonrpc: "2.0", id: request.id!, error }) as JSONRPCMessage;
    if (taskIds.length > MAX_LISTEN_IDS) {
      return refuse({
        code: -32602,
        message: `Invalid params: notifications.taskIds names ${taskIds.length} entries; at most ` +
          `${MAX_LISTEN_IDS} per subscription (open another subscription for more)`,
      });
    }
    const meta = isRecord(request.params?._meta) ? request.params._meta : undefined;
    if (!declaresTasksExtension(meta)) return refuse(MISSING_TASKS_EXTENSION);
    this.#end(request.id);
    const found = Promise.all(taskIds.map((id) => this.#source.findJob(id).catch(() => undefined)));
    this.#subscriptions.set(request.id, {
      owned: found.then((records) => taskIds.filter((_, i) => records[i] !== undefined)),
    });
    return undefined;
  }

  /** Adds the honoured task ids to the acknowledgement, then feeds the tasks. */
  async outbound(
    message: JSONRPCMessage,
    write: (message: JSONRPCMessage) => Promise<void>,
  ): Promise<void> {
    this.#write = write;
    const outgoing = message as {
      id?: Id;
      method?: string;
      params?: { notifications?: Record<string, unknown>; _meta?: Record<string, unknown> };
    };
    if (outgoing.method === "notifications/subscriptions/acknowledged") {
      const id = outgoing.params?._meta?.[SUBSCRIPTION_ID] as Id | undefined;
      const subscription = id === undefined ? undefined : this.#subscriptions.get(id);
      if (id !== undefined && subscription) {
        const owned = await subscription.owned;
        if (owned.length === 0) {
          this.#subscriptions.delete(id);
          return await write(message);
        }
        await write({
          ...message,
          params: {
            ...outgoing.params,
            notifications: { ...outgoing.params?.notifications, taskIds: owned },
          },
        } as JSONRPCMessage);
        if (this.#subscriptions.get(id) === subscription) {
          subscription.stop = feedTasks(this.#source, owned, (task) =>
            void this.#write?.({
              jsonrpc: "2.0",
              method: "notifications/tasks",
              params: { ...task, _meta: { [SUBSCRIPTION_ID]: id } },
            } as JSONRPCMessage).catch(() => this.#end(id)));
        }
        return;
      }
    }
    // The answer to a listen request (refused, or ended by the server) ends its feed.
    if (outgoing.id !== undefined && outgoing.method === undefined) this.#end(outgoing.id);
    await write(message);
  }

  /** Stops every feed. */
  closed(): void {
    for (const id of [...this.#subscriptions.keys()]) this.#end(id);
  }

  #end(id: Id): void {
    const subscription = this.#subscriptions.get(id);
    if (!subscription) return;
    this.#subscriptions.delete(id);
    subscription.stop?.();
  }
}
