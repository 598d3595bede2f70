/**
 * A bounded in-memory event store for Streamable HTTP resumability (the SDK exports the
 * interface only). One store per session; the oldest events are dropped past `maxEvents`, so a
 * client that comes back too late gets what is left rather than a server that grows forever.
 *
 * Event ids are `<streamId>_<sequence>`: they encode their stream, as the spec asks, and are
 * unique within the session.
 *
 * @module
 */

import type { EventId, EventStore, JSONRPCMessage, StreamId } from "@modelcontextprotocol/server";

/** Default number of events kept per session. */
export const DEFAULT_MAX_EVENTS = 1000;

interface StoredEvent {
  streamId: StreamId;
  message: JSONRPCMessage;
}

/** A bounded, per-session {@linkcode EventStore}. */
export class BoundedEventStore implements EventStore {
  readonly #events = new Map<EventId, StoredEvent>();
  readonly #maxEvents: number;
  #sequence = 0;

  /** Keeps at most `maxEvents` events (oldest dropped first). */
  constructor(maxEvents: number = DEFAULT_MAX_EVENTS) {
    this.#maxEvents = maxEvents;
  }

  /** Number of events currently kept. */
  get size(): number {
    return this.#events.size;
  }

  /** Stores an event and answers its id. */
  storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const eventId = `${streamId}_${++this.#sequence}`;
    this.#events.set(eventId, { streamId, message });
    if (this.#events.size > this.#maxEvents) {
      const oldest = this.#events.keys().next().value;
      if (oldest !== undefined) this.#events.delete(oldest);
    }
    return Promise.resolve(eventId);
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
    for (const [eventId, event] of this.#events) {
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
