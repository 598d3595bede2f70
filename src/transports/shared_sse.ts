/**
 * What the legacy `/sse` + `/messages/` endpoints need from a cluster: a POST to
 * `/messages/?session_id=…` may land on an instance that does not hold the session's SSE stream;
 * it is relayed to the instance that does (and answered 202 as usual), and the per-client cap on
 * SSE sessions is counted across the cluster. Implemented on Redis in `cluster/`; absent on a
 * single instance.
 *
 * @module
 */

import type { JSONRPCMessage } from "../sdk_types.ts";
import type { Principal } from "../principal.ts";

/** Legacy SSE sessions shared by the instances of a cluster. */
export interface SharedSseSessions {
  /**
   * Announces a session whose stream this instance holds; relayed messages go to `deliver`.
   * Answers false (and holds nothing) when the caller already holds `maxPerPrincipal` sessions
   * on any instance.
   */
  hold(
    id: string,
    principal: Principal,
    maxPerPrincipal: number,
    deliver: (message: JSONRPCMessage) => void,
  ): Promise<boolean>;
  /** The session ended here: forgets it everywhere. */
  release(id: string): Promise<void>;
  /**
   * Relays a message to the instance holding session `id` for its owner `owner`
   * (`ownerKey`); answers false when no live instance holds it for that owner.
   */
  relay(id: string, owner: string, message: JSONRPCMessage): Promise<boolean>;
}
