/**
 * Sends `notifications/resources/list_changed` to a session whose caller's job list changed
 * (a job submitted, or one changing status): the `resources.listChanged` capability the server
 * declares. A 2025-era session (Streamable HTTP, whose GET stream carries it, legacy SSE, stdio)
 * listens from `initialized` until the server closes; a stateless 2026-07-28 request never
 * initializes, so it never listens.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import type { ServerDeps } from "../context.ts";

/** Wires job-list changes of the caller to `notifications/resources/list_changed`. */
export function registerJobListNotifier(server: McpServer, deps: ServerDeps): void {
  const inner = server.server;
  let stop: (() => void) | undefined;
  const previous = inner.oninitialized;
  inner.oninitialized = () => {
    previous?.();
    stop ??= deps.jobs.listChanges.subscribe(deps.principal.id, () => {
      if (!server.isConnected()) {
        stop?.();
        return;
      }
      server.sendResourceListChanged();
    });
  };
  const close = server.close.bind(server);
  server.close = async () => {
    stop?.();
    await close();
  };
}
