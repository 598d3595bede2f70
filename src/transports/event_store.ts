/**
 * A bounded in-memory event store for Streamable HTTP resumability (the SDK exports the
 * interface only). One store per session, bounded three ways: a count of events and a number of
 * bytes per session, and a byte budget that every session's store shares. The oldest events are
 * dropped first, so a client that comes back too late gets what is left rather than a server
 * that grows forever; an event larger than a whole session's share is not kept at all (it is
 * still delivered live, only not replayable).
 *
 * Event ids are `<streamId>_<sequence>`: they encode their stream, as the spec asks, and are
 * unique within the session.
 *
 * @module
 */

import type { EventId, EventStore, JSONRPCMessage, StreamId } from "@modelcontextprotocol/server";

/** Default number of events kept per session. */
export const DEFAULT_MAX_EVENTS = 1000;
/** Default bytes of events kept per session (4 MiB). */
export const DEFAULT_MAX_SESSION_BYTES = 4 * 1024 * 1024;
/** Default bytes of events kept by all sessions together (256 MiB). */
export const DEFAULT_MAX_TOTAL_BYTES = 256 * 1024 * 1024;

interface StoredEvent {
  streamId: StreamId;
  message: JSONRPCMessage;
  bytes: number;
}

/** The byte budget every session's event store draws from. */
export class EventStoreBudget {
  /** Most bytes of events kept by all sessions together. */
  readonly maxBytes: number;
  #used = 0;
  readonly #stores = new Set<BoundedEventStore>();

  /** A shared budget of `maxBytes`. */
  constructor(maxBytes: number = DEFAULT_MAX_TOTAL_BYTES) {
    this.maxBytes = maxBytes;
  }

  /** Bytes held by every store now. */
  get used(): number {
    return this.#used;
  }

  /** @internal Adjusts the bytes held. */
  add(store: BoundedEventStore, bytes: number): void {
    this.#used += bytes;
    if (store.bytes > 0) this.#stores.add(store);
    else this.#stores.delete(store);
  }

  /** @internal Frees bytes until `bytes` more fit, dropping the oldest events of the biggest store. */
  makeRoom(bytes: number, asking: BoundedEventStore): boolean {
    while (this.#used + bytes > this.maxBytes) {
      let biggest: BoundedEventStore | undefined;
      for (const store of this.#stores) {
        if (!biggest || store.bytes > biggest.bytes) biggest = store;
      }
      if (!biggest || !biggest.dropOldest()) return false;
      if (biggest === asking && asking.bytes === 0 && this.#used + bytes > this.maxBytes) {
        return false;
      }
    }
    return true;
  }
}

/** Options for {@linkcode BoundedEventStore}. */
export interface BoundedEventStoreOptions {
  /** Most events kept (oldest dropped first). Default 1000. */
  maxEvents?: number;
  /** Most bytes of events kept (JSON size of the messages). Default 4 MiB. */
  maxBytes?: number;
  /** The budget shared with other sessions' stores (a private one of 256 MiB when absent). */
  budget?: EventStoreBudget;
}

const encoder = new TextEncoder();

/** A bounded, per-session {@linkcode EventStore}. */
export class BoundedEventStore implements EventStore {
  readonly #events = new Map<EventId, StoredEvent>();
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #budget: EventStoreBudget;
  #bytes = 0;
  #sequence = 0;

  /** Keeps at most `maxEvents` events and `maxBytes` bytes (a number is taken as `maxEvents`). */
  constructor(options: BoundedEventStoreOptions | number = {}) {
    const opts = typeof options === "number" ? { maxEvents: options } : options;
    this.#maxEvents = opts.maxEvents ?? DEFAULT_MAX_EVENTS;
    this.#maxBytes = opts.maxBytes ?? DEFAULT_MAX_SESSION_BYTES;
    this.#budget = opts.budget ?? new EventStoreBudget();
  }

  /** Number of events currently kept. */
  get size(): number {
    return this.#events.size;
  }

  /** Bytes of events currently kept. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Stores an event and answers its id. */
  storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const eventId = `${streamId}_${++this.#sequence}`;
    const bytes = encoder.encode(JSON.stringify(message)).byteLength + eventId.length;
    if (bytes > this.#maxBytes || bytes > this.#budget.maxBytes) {
      // Too big to keep for replay at all; the live stream still carries it.
      return Promise.resolve(eventId);
    }
    while (
      this.#events.size >= this.#maxEvents || this.#bytes + bytes > this.#maxBytes
    ) {
      if (!this.dropOldest()) break;
    }
    if (!this.#budget.makeRoom(bytes, this)) return Promise.resolve(eventId);
    this.#events.set(eventId, { streamId, message, bytes });
    this.#bytes += bytes;
    this.#budget.add(this, bytes);
    return Promise.resolve(eventId);
  }

  /** Drops the oldest event; answers false when there was none. */
  dropOldest(): boolean {
    const oldest = this.#events.entries().next().value;
    if (oldest === undefined) return false;
    const [id, event] = oldest;
    this.#events.delete(id);
    this.#bytes -= event.bytes;
    this.#budget.add(this, -event.bytes);
    return true;
  }

  /** Forgets every event (the session ended) and gives its bytes back to the budget. */
  clear(): void {
    while (this.dropOldest()) { /* drop all */ }
  }

  /** The stream an event id belongs to, if the event is still kept. */
  getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return Promise.resolve(this.#events.get(eventId)?.streamId);
  }

  /** Sends every event of the same stream stored after `lastEventId`, in order. */
  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const last = this.#events.get(lastEventId);
    if (!last) throw new Error(`Unknown or expired event id: ${lastEventId}`);
    let after = false;
    for (const [eventId, event] of [...this.#events]) {
      if (eventId === lastEventId) {
        after = true;
        continue;
      }
      // The priming event is stored as `{}`: it carries nothing to replay.
      if (after && event.streamId === last.streamId && Object.keys(event.message).length > 0) {
        await send(eventId, event.message);
      }
    }
    return last.streamId;
  }
}
