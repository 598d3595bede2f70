/**
 * Live job updates for 2025-era connections (stdio, HTTP sessions, legacy SSE): a client
 * subscribes to `fal://jobs/{id}` with `resources/subscribe` and hears
 * `notifications/resources/updated` each time the job moves (list changes come from
 * `job_list_notifier.ts`). 2026-07-28 clients get updates and list changes through
 * `subscriptions/listen`.
 *
 * Listening starts once a connection is initialized (stateless per-request servers never
 * listen) and stops when it closes.
 *
 * @module
 */

import { type McpServer, ProtocolError, ProtocolErrorCode } from "@modelcontextprotocol/server";
import type { ServerDeps } from "../context.ts";

const JOB_URI = /^fal:\/\/jobs\/([^/?#]+)$/;
/** Most job resources one connection may be subscribed to. */
export const MAX_SUBSCRIPTIONS = 1000;

const subscriptionsOf = new WeakMap<McpServer, Set<string>>();

/** Server capabilities for resource subscriptions and list changes. */
export const RESOURCE_CAPABILITIES = { subscribe: true, listChanged: true } as const;

/** Installs `resources/subscribe` and `resources/unsubscribe` and the job listener. */
export function installJobSubscriptions(server: McpServer, deps: ServerDeps): void {
  const low = server.server;
  const subscribed = new Set<string>();
  subscriptionsOf.set(server, subscribed);
  const uriOf = (params: unknown): string => {
    const uri = (params as { uri?: unknown } | undefined)?.uri;
    if (typeof uri !== "string" || uri === "") {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, "uri is required");
    }
    return uri;
  };

  low.setRequestHandler("resources/subscribe", async (request) => {
    const uri = uriOf(request.params);
    const id = uri.match(JOB_URI)?.[1];
    if (id !== undefined) {
      try {
        await deps.jobs.get(deps, decodeURIComponent(id));
      } catch (error) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, (error as Error).message);
      }
      if (!subscribed.has(uri) && subscribed.size >= MAX_SUBSCRIPTIONS) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `Cannot subscribe to ${uri}: this connection already follows ${MAX_SUBSCRIPTIONS} ` +
            "jobs; unsubscribe from finished ones first",
        );
      }
      subscribed.add(uri);
    }
    // Other resources (model schemas) never change: subscribing to them is a no-op.
    return {};
  });

  low.setRequestHandler("resources/unsubscribe", (request) => {
    subscribed.delete(uriOf(request.params));
    return {};
  });

  const previous = low.oninitialized;
  low.oninitialized = () => {
    previous?.();
    followJobs(server, deps);
  };
}

const following = new WeakSet<McpServer>();

/**
 * Starts sending a connection the caller's job updates, once: called when a 2025-era connection
 * is initialized, and by long-lived connections (stdio) from the start. On a 2026-07-28
 * connection every update of the caller's jobs is handed to the SDK, whose `subscriptions/listen`
 * router passes on only what a subscription asked for; on a 2025 one only subscribed jobs are.
 * Stops when the connection closes.
 */
export function followJobs(server: McpServer, deps: ServerDeps): void {
  if (following.has(server)) return;
  following.add(server);
  const low = server.server;
  const owner = deps.principal.id;
  const subscribed = subscriptionsOf.get(server);
  let unsubscribe: (() => void) | undefined;
  const stop = () => {
    unsubscribe?.();
    unsubscribe = undefined;
  };
  unsubscribe = deps.jobs.events.subscribe(({ record, kind, previous }) => {
    if (record.owner !== owner) return;
    const version = low.getNegotiatedProtocolVersion();
    if (!version) return; // not connected yet (or no longer)
    const modern = version >= "2026-07-28";
    const uri = `fal://jobs/${record.id}`;
    if (modern || subscribed?.has(uri)) void low.sendResourceUpdated({ uri }).catch(stop);
    // 2025-era connections hear list changes from the job list notifier.
    if (modern && (kind === "created" || previous !== record.status)) {
      void low.sendResourceListChanged().catch(stop);
    }
  });
  // The transport sets its own close handler before this runs: keep it, then stop listening.
  const previousOnClose = low.onclose;
  low.onclose = () => {
    stop();
    previousOnClose?.();
  };
}
