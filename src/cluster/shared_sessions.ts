/**
 * 2025-era sessions shared through Redis: the {@linkcode SharedSessions} the `/mcp` transport uses
 * when `--redis-url` is set.
 *
 * @module
 */

import type { Logger } from "../log.ts";
import { ownerKey, type Principal } from "../principal.ts";
import type { SharedEventStore, SharedSessions } from "../transports/shared_sessions.ts";
import type { RedisCluster } from "./redis_cluster.ts";
import { RedisSessionDirectory } from "./session_directory.ts";
import { RedisSessionLog } from "./session_log.ts";
import { serveSessionStream } from "./session_stream.ts";

/** Options for {@linkcode createSharedSessions}. */
export interface SharedSessionsOptions {
  /** The cluster membership (connections, prefix, instance id). */
  cluster: Pick<RedisCluster, "client" | "subscriber" | "prefix" | "instanceId">;
  /** A session idle this long is forgotten everywhere. */
  ttlMs: number;
  /** Keep-alive comment interval of streams (ms). */
  keepAliveMs: number;
  /** `retry` advertised in priming events (ms). */
  retryMs: number;
  /** Most events kept per session. */
  maxEvents?: number | undefined;
  /** How often a resumed call checks whether its instance is alive (default 500 ms). */
  claimIntervalMs?: number;
  /** Logger. */
  logger: Logger;
}

/** Sessions shared by every instance on the cluster's Redis. */
export function createSharedSessions(options: SharedSessionsOptions): SharedSessions {
  const { cluster, logger } = options;
  const directory = new RedisSessionDirectory({
    client: cluster.client,
    subscriber: cluster.subscriber,
    prefix: cluster.prefix,
    ttlMs: options.ttlMs,
    instanceId: cluster.instanceId,
    logger,
  });
  const stopping = new AbortController();
  /** The open streams of each session, ended when the session ends anywhere. */
  const streams = new Map<string, Set<AbortController>>();
  void directory.onEnded((id) => {
    for (const stream of streams.get(id) ?? []) stream.abort();
  }).catch(() => {});
  const logOf = (id: string) =>
    new RedisSessionLog({
      client: cluster.client,
      prefix: cluster.prefix,
      sessionId: id,
      ttlMs: options.ttlMs,
      ...(options.maxEvents !== undefined ? { maxEvents: options.maxEvents } : {}),
    });
  return {
    create: (id, principal, initialize, max) =>
      directory.create(id, {
        owner: ownerKey(principal),
        principal: principal.id,
        initialize,
        protocolVersion: String(
          (initialize as { params?: { protocolVersion?: unknown } }).params?.protocolVersion ?? "",
        ),
        createdAt: Date.now(),
      }, max),
    get: (id) => directory.get(id),
    touch(id: string, principal: Principal) {
      directory.touch(id, principal.id).catch((error) =>
        logger.warn("keeping a session alive failed", { session_id: id, error })
      );
    },
    end: (id, principal) => directory.end(id, principal.id),
    async onEnded(listener) {
      await directory.onEnded(listener);
    },
    eventStore: (id): SharedEventStore => logOf(id),
    async serveStream(id, request, priming, resume) {
      const controller = new AbortController();
      let open = streams.get(id);
      if (!open) streams.set(id, open = new Set());
      open.add(controller);
      const signal = AbortSignal.any([controller.signal, stopping.signal]);
      const response = await serveSessionStream({
        directory,
        log: logOf(id),
        sessionId: id,
        lastEventId: request.headers.get("last-event-id"),
        priming,
        retryMs: options.retryMs,
        keepAliveMs: options.keepAliveMs,
        claimIntervalMs: options.claimIntervalMs ?? 500,
        resume: (call, streamId, lastProgress) =>
          resume({ request: call.request, streamId, jobId: call.jobId, lastProgress }),
        signal,
        onClosed: () => {
          open.delete(controller);
          if (open.size === 0 && streams.get(id) === open) streams.delete(id);
        },
        logger,
      });
      return response;
    },
    noteCall: (id, streamId, request, jobId) =>
      directory.noteCall(id, streamId, { request, jobId, instance: cluster.instanceId }),
    close() {
      stopping.abort();
    },
  };
}
