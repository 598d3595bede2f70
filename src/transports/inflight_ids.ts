/**
 * The JSON-RPC request ids in flight on one session. A second request with an id that is still
 * being answered would be mistaken for the first (its answer routed to one stream or lost), so
 * it is refused with an error while the first call still gets its own answer.
 *
 * @module
 */

import { JsonRpcCode } from "../errors.ts";
import { jsonRpcErrorResponse, type JsonRpcId } from "../protocol/jsonrpc_error.ts";

/** The ids of requests (messages with a method and an id) in a parsed body. */
export function requestIdsOf(body: unknown): Array<string | number> {
  const messages = Array.isArray(body) ? body : [body];
  const ids: Array<string | number> = [];
  for (const message of messages) {
    if (!message || typeof message !== "object") continue;
    const { id, method } = message as { id?: unknown; method?: unknown };
    if (typeof method !== "string") continue;
    if (typeof id === "string" || typeof id === "number") ids.push(id);
  }
  return ids;
}

/** Request ids in flight on one session. */
export class InFlightIds {
  readonly #ids = new Set<string>();

  /** Number of ids in flight. */
  get size(): number {
    return this.#ids.size;
  }

  /** Whether `id` is in flight. */
  has(id: string | number): boolean {
    return this.#ids.has(key(id));
  }

  /**
   * Claims every id; answers the release function, or the first id already in flight (nothing
   * is claimed then).
   */
  claim(ids: ReadonlyArray<string | number>): { release: () => void } | { duplicate: JsonRpcId } {
    const keys = ids.map(key);
    const taken = keys.findIndex((k, i) => this.#ids.has(k) || keys.indexOf(k) !== i);
    if (taken >= 0) return { duplicate: ids[taken]! };
    for (const k of keys) this.#ids.add(k);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        for (const k of keys) this.#ids.delete(k);
      },
    };
  }

  /** Releases one id (its response was sent). */
  release(id: string | number): void {
    this.#ids.delete(key(id));
  }
}

/** Numbers and strings are different ids (`1` is not `"1"`). */
function key(id: string | number): string {
  return typeof id === "number" ? `n:${id}` : `s:${id}`;
}

/** The error answer to a request whose id is already in flight on the session. */
export function duplicateIdResponse(id: JsonRpcId): Response {
  return jsonRpcErrorResponse(
    409,
    JsonRpcCode.InvalidRequest,
    `Invalid Request: id ${JSON.stringify(id)} is already used by a request still in flight ` +
      "on this session; use a new id for each request",
    undefined,
    id,
  );
}
