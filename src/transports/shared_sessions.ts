/**
 * What the `/mcp` transport needs from a cluster to serve 2025-era sessions on any instance: a
 * shared session directory (owner, the client's `initialize`, a per-principal cap), a shared event
 * log per session, GET streams served from that log, and a record of calls in flight so another
 * instance can finish one whose instance died. Implemented on Redis in `cluster/`; absent on a
 * single instance, where sessions live in process as before.
 *
 * @module
 */

import type { EventStore } from "../sdk_types.ts";
import type { Principal } from "../principal.ts";

/** A session as the cluster knows it. */
export interface SharedSession {
  /** `ownerKey` of the caller that opened it. */
  owner: string;
  /** The client's `initialize` request. */
  initialize: unknown;
  /** The protocol version the client asked for. */
  protocolVersion: string;
}

/** A call taken over from an instance that died, to be finished here. */
export interface ResumedCall {
  /** The original request (its id is the one the answer carries). */
  request: { id: string | number; method: string; params?: unknown };
  /** The stream (of the SDK transport) that answers it. */
  streamId: string;
  /** The job it waits on. */
  jobId: string;
  /** The last progress value the client saw. */
  lastProgress: number;
}

/** A session's event log, which can be muted while a session is rebuilt. */
export interface SharedEventStore extends EventStore {
  /** While true, nothing is logged. */
  muted: boolean;
}

/** Sessions shared by the instances of a cluster. */
export interface SharedSessions {
  /** Records a new session; false when the caller already holds `maxPerPrincipal` anywhere. */
  create(
    id: string,
    principal: Principal,
    initialize: unknown,
    maxPerPrincipal: number,
  ): Promise<boolean>;
  /** A live session, if any. */
  get(id: string): Promise<SharedSession | undefined>;
  /** Keeps a session alive for another idle TTL (best effort). */
  touch(id: string, principal: Principal): void;
  /** Ends a session everywhere. */
  end(id: string, principal: Principal): Promise<void>;
  /** Calls `listener` with each session ended anywhere (to drop local copies). */
  onEnded(listener: (id: string) => void): Promise<void>;
  /** The event log of a session. */
  eventStore(id: string): SharedEventStore;
  /**
   * Serves a GET of a session (standalone stream, or a stream resumed with `Last-Event-ID`)
   * from its log; `resume` finishes a call whose instance died.
   */
  serveStream(
    id: string,
    request: Request,
    priming: boolean,
    resume: (call: ResumedCall) => void,
  ): Promise<Response>;
  /** Records that the call answered on `streamId` waits on `jobId`. */
  noteCall(
    id: string,
    streamId: string,
    request: ResumedCall["request"],
    jobId: string,
  ): Promise<void>;
  /** Stops serving streams. */
  close(): void;
}
