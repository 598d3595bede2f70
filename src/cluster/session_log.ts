/**
 * The event log of a 2025-era session in a cluster: every message the server sends on any of the
 * session's streams, in one Redis Stream per session (`<prefix>session-log:<session>`), so that a
 * stream can be resumed (`Last-Event-ID`) and the standalone GET stream served from any instance.
 *
 * Bounded per session in events and in bytes (the oldest dropped first), and expiring with the
 * session. Each append is one Lua script: it adds the event, trims the log, refreshes its expiry,
 * forgets the in-flight call a response answers, and publishes the new event's id on the
 * session's channel, where the instance holding the client's stream hears it.
 *
 * Event ids are `<streamId>_<redis entry id>`: they encode their stream, as the spec asks, and are
 * unique within the session.
 *
 * @module
 */

import type { EventId, EventStore, JSONRPCMessage, StreamId } from "@modelcontextprotocol/server";
import type { RedisClient } from "../jobs/redis_store.ts";

/** Default number of events kept per session. */
export const DEFAULT_LOG_EVENTS = 1000;
/** Default bytes of events kept per session (4 MiB). */
export const DEFAULT_LOG_BYTES = 4 * 1024 * 1024;

/** The keys and channel of one session's log. */
export interface SessionLogKeys {
  /** The Redis Stream of events. */
  log: string;
  /** The bytes the log holds. */
  bytes: string;
  /** The channel on which appended event ids are published. */
  channel: string;
  /** The prefix of the session's in-flight call records (`<calls><streamId>`). */
  calls: string;
  /** The prefix of the guards against logging one notification twice. */
  duplicates: string;
}

/** The keys of session `id` under `prefix`. */
export function sessionLogKeys(prefix: string, id: string): SessionLogKeys {
  return {
    log: `${prefix}session-log:${id}`,
    bytes: `${prefix}session-log-bytes:${id}`,
    channel: `${prefix}session-events:${id}`,
    calls: `${prefix}session-call:${id}:`,
    duplicates: `${prefix}session-dup:${id}:`,
  };
}

/**
 * KEYS: log, bytes, call record, duplicate guard. ARGV: streamId, message JSON, bytes, max events,
 * max bytes, ttl ms, channel, "1" when the message answers a request, duplicate window ms ("0":
 * none).
 */
const APPEND_SCRIPT = `
if ARGV[9] ~= '0' and not redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[9]) then return '' end
local id = redis.call('XADD', KEYS[1], '*', 's', ARGV[1], 'm', ARGV[2], 'b', ARGV[3])
local total = redis.call('INCRBY', KEYS[2], ARGV[3])
local count = redis.call('XLEN', KEYS[1])
local maxEvents = tonumber(ARGV[4])
local maxBytes = tonumber(ARGV[5])
while count > 1 and (count > maxEvents or total > maxBytes) do
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  local size = 0
  local fields = oldest[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'b' then size = tonumber(fields[i + 1]) end
  end
  redis.call('XDEL', KEYS[1], oldest[1])
  total = redis.call('INCRBY', KEYS[2], -size)
  count = count - 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
if ARGV[8] == '1' then redis.call('DEL', KEYS[3]) end
redis.call('PUBLISH', ARGV[7], id)
return id`;

/** One event read back from a log. */
export interface LoggedEvent {
  /** The event id (`<streamId>_<entry id>`). */
  eventId: EventId;
  /** The Redis entry id. */
  entryId: string;
  /** The stream it belongs to. */
  streamId: StreamId;
  /** The message (`{}` for a priming event). */
  message: JSONRPCMessage;
}

/** Splits an event id into its stream and Redis entry id; undefined when it is not one of ours. */
export function parseEventId(eventId: string): { streamId: string; entryId: string } | undefined {
  const at = eventId.lastIndexOf("_");
  if (at <= 0) return undefined;
  const entryId = eventId.slice(at + 1);
  if (!/^\d+-\d+$/.test(entryId)) return undefined;
  return { streamId: eventId.slice(0, at), entryId };
}

const encoder = new TextEncoder();

/** The SDK's id of the standalone GET stream. */
export const STANDALONE_STREAM = "_GET_stream";

/** Identical standalone notifications this close together are logged once (ms). */
const DUPLICATE_WINDOW_MS = 300;

/** A 32-bit FNV-1a hash of a string, in hex. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16);
}

function isResponse(message: JSONRPCMessage): boolean {
  const m = message as { id?: unknown; method?: unknown; result?: unknown; error?: unknown };
  return m.id !== undefined && m.method === undefined &&
    (m.result !== undefined || m.error !== undefined);
}

/** Options for {@linkcode RedisSessionLog}. */
export interface RedisSessionLogOptions {
  /** The command connection. */
  client: RedisClient;
  /** Key prefix. */
  prefix: string;
  /** The session id. */
  sessionId: string;
  /** How long the log outlives its last event (the session's idle TTL). */
  ttlMs: number;
  /** Most events kept. */
  maxEvents?: number;
  /** Most bytes kept. */
  maxBytes?: number;
}

/** A session's event log in Redis; the SDK's session transport writes through it. */
export class RedisSessionLog implements EventStore {
  readonly #client: RedisClient;
  readonly #keys: SessionLogKeys;
  readonly #ttlMs: number;
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  /** While set, events are not kept (rebuilding a session replays its initialize). */
  muted = false;

  /** A log for one session. */
  constructor(options: RedisSessionLogOptions) {
    this.#client = options.client;
    this.#keys = sessionLogKeys(options.prefix, options.sessionId);
    this.#ttlMs = options.ttlMs;
    this.#maxEvents = options.maxEvents ?? DEFAULT_LOG_EVENTS;
    this.#maxBytes = options.maxBytes ?? DEFAULT_LOG_BYTES;
  }

  /** The log's keys. */
  get keys(): SessionLogKeys {
    return this.#keys;
  }

  /** Appends an event and answers its id. */
  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    if (this.muted) return `${streamId}_0-0`;
    const text = JSON.stringify(message);
    const bytes = encoder.encode(text).byteLength + streamId.length + 24;
    // Every instance holding a copy of the session hears the same job change and sends the
    // same notification on the standalone stream at nearly the same moment: it is logged once.
    const standalone = streamId === STANDALONE_STREAM && Object.keys(message).length > 0;
    const entryId = await this.#client.eval(APPEND_SCRIPT, {
      keys: [
        this.#keys.log,
        this.#keys.bytes,
        `${this.#keys.calls}${streamId}`,
        `${this.#keys.duplicates}${fnv1a(text)}`,
      ],
      arguments: [
        streamId,
        text,
        String(bytes),
        String(this.#maxEvents),
        String(this.#maxBytes),
        String(this.#ttlMs),
        this.#keys.channel,
        isResponse(message) ? "1" : "0",
        standalone ? String(DUPLICATE_WINDOW_MS) : "0",
      ],
    });
    return `${streamId}_${String(entryId) || "0-0"}`;
  }

  /** The stream an event id belongs to, when it is one of this log's. */
  getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined> {
    return Promise.resolve(parseEventId(eventId)?.streamId);
  }

  /** Sends every event of the same stream logged after `lastEventId`, in order. */
  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const parsed = parseEventId(lastEventId);
    if (!parsed) throw new Error(`Unknown event id: ${lastEventId}`);
    let cursor = parsed.entryId;
    for (;;) {
      const batch = await readLog(this.#client, this.#keys.log, cursor, 200);
      for (const event of batch) {
        if (event.streamId === parsed.streamId && Object.keys(event.message).length > 0) {
          await send(event.eventId, event.message);
        }
      }
      if (batch.length < 200) return parsed.streamId;
      cursor = batch[batch.length - 1]!.entryId;
    }
  }
}

/** Reads up to `count` events logged after entry `after` (exclusive). */
export async function readLog(
  client: RedisClient,
  key: string,
  after: string,
  count: number,
): Promise<LoggedEvent[]> {
  const entries = await client.xRange(key, `(${after}`, "+", { COUNT: count }) as {
    id: string;
    message: Record<string, string>;
  }[];
  const events: LoggedEvent[] = [];
  for (const { id, message } of entries) {
    const streamId = message.s ?? "";
    let parsed: JSONRPCMessage;
    try {
      parsed = JSON.parse(message.m ?? "{}");
    } catch {
      continue;
    }
    events.push({ eventId: `${streamId}_${id}`, entryId: id, streamId, message: parsed });
  }
  return events;
}

/** The id of the newest entry of a log (`0-0` when empty). */
export async function lastEntryId(client: RedisClient, key: string): Promise<string> {
  const newest = await client.xRevRange(key, "+", "-", { COUNT: 1 }) as { id: string }[];
  return newest[0]?.id ?? "0-0";
}

/** Whether a message answers a request (a result or an error). */
export { isResponse as isResponseMessage };
