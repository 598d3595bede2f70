/**
 * A 2025-era session's server → client stream served from the session's log in Redis, on
 * whichever instance the client's GET lands: the standalone GET stream, or a stream resumed with
 * `Last-Event-ID` (events after that id are replayed, then new ones follow as they are logged, by
 * any instance). A resumed call stream ends once its response is sent; while it waits, the call
 * is taken over when the instance serving it is no longer alive.
 *
 * @module
 */

import type { JSONRPCMessage } from "@modelcontextprotocol/server";
import type { Logger } from "../log.ts";
import type { CallRecord, RedisSessionDirectory } from "./session_directory.ts";
import {
  isResponseMessage,
  lastEntryId,
  parseEventId,
  readLog,
  type RedisSessionLog,
  STANDALONE_STREAM,
} from "./session_log.ts";

/** Options for {@linkcode serveSessionStream}. */
export interface SessionStreamOptions {
  /** The session directory. */
  directory: RedisSessionDirectory;
  /** The session's log. */
  log: RedisSessionLog;
  /** The session id. */
  sessionId: string;
  /** `Last-Event-ID` of the request, if any. */
  lastEventId: string | null;
  /** Whether the client takes priming events (2025-11-25 and later). */
  priming: boolean;
  /** `retry` advertised in the priming event (ms). */
  retryMs: number;
  /** Keep-alive comment interval (ms). */
  keepAliveMs: number;
  /** How often a resumed call stream checks whether its call's instance is alive (ms). */
  claimIntervalMs: number;
  /** Finishes a call taken over from a dead instance (its answer goes to the log). */
  resume: (call: CallRecord, streamId: string, lastProgress: number) => void;
  /** Ends (closes the stream) when the session ends or the server stops. */
  signal: AbortSignal;
  /** Called once the stream has ended. */
  onClosed?: () => void;
  /** Logger. */
  logger: Logger;
}

const encoder = new TextEncoder();
const HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache, no-transform",
  connection: "keep-alive",
  "x-accel-buffering": "no",
};

function frame(eventId: string, message: JSONRPCMessage): Uint8Array {
  return encoder.encode(`event: message\nid: ${eventId}\ndata: ${JSON.stringify(message)}\n\n`);
}

/** The last progress value a stream's log carries (0 when none). */
async function lastProgressOf(
  log: RedisSessionLog,
  directory: RedisSessionDirectory,
  streamId: string,
): Promise<number> {
  let last = 0;
  let cursor = "0-0";
  for (;;) {
    const batch = await readLog(directory.client, log.keys.log, cursor, 500);
    for (const event of batch) {
      const m = event.message as { method?: string; params?: { progress?: unknown } };
      if (
        event.streamId === streamId && m.method === "notifications/progress" &&
        typeof m.params?.progress === "number"
      ) last = Math.max(last, m.params.progress);
    }
    if (batch.length < 500) return last;
    cursor = batch[batch.length - 1]!.entryId;
  }
}

/** Serves the GET of a session that lives in the cluster (its owner already checked). */
export async function serveSessionStream(options: SessionStreamOptions): Promise<Response> {
  const { directory, log, sessionId } = options;
  let streamId = STANDALONE_STREAM;
  let cursor = "0-0";
  if (options.lastEventId) {
    const parsed = parseEventId(options.lastEventId);
    if (!parsed) {
      return Response.json({
        jsonrpc: "2.0",
        error: { code: -32000, message: "Invalid event ID format" },
        id: null,
      }, { status: 400 });
    }
    streamId = parsed.streamId;
    cursor = parsed.entryId;
  }
  const isCall = streamId !== STANDALONE_STREAM;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let pumping: Promise<void> = Promise.resolve();
  let again = false;
  const timers: ReturnType<typeof setInterval>[] = [];
  const subscription: { stop?: () => Promise<void> } = {};
  const finish = () => {
    if (closed) return;
    closed = true;
    for (const timer of timers) clearInterval(timer);
    options.signal.removeEventListener("abort", finish);
    void subscription.stop?.();
    options.onClosed?.();
    try {
      controller.close();
    } catch {
      // the client already left
    }
  };
  const write = (bytes: Uint8Array) => {
    if (closed) return;
    try {
      controller.enqueue(bytes);
    } catch {
      finish();
    }
  };
  const pumpOnce = async () => {
    for (;;) {
      const batch = await readLog(directory.client, log.keys.log, cursor, 200);
      for (const event of batch) {
        cursor = event.entryId;
        if (event.streamId !== streamId || Object.keys(event.message).length === 0) continue;
        write(frame(event.eventId, event.message));
        if (isCall && isResponseMessage(event.message)) {
          finish();
          return;
        }
      }
      if (batch.length < 200 || closed) return;
    }
  };
  const pump = () => {
    if (closed) return;
    again = true;
    pumping = pumping.then(async () => {
      while (again && !closed) {
        again = false;
        await pumpOnce().catch((error) => {
          options.logger.warn("reading a session's log failed", { session_id: sessionId, error });
        });
      }
    });
  };

  const body = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: () => finish(),
  });
  subscription.stop = await directory.onAppended(sessionId, () => pump());
  if (closed) void subscription.stop();
  if (options.signal.aborted) finish();
  options.signal.addEventListener("abort", finish, { once: true });
  if (!options.lastEventId) {
    if (options.priming) {
      const primed = await log.storeEvent(streamId, {} as JSONRPCMessage);
      cursor = parseEventId(primed)?.entryId ?? cursor;
      write(encoder.encode(`id: ${primed}\nretry: ${options.retryMs}\ndata: \n\n`));
    } else {
      cursor = await lastEntryId(directory.client, log.keys.log);
    }
  }
  pump();
  const keepAlive = setInterval(
    () => write(encoder.encode(": keepalive\n\n")),
    options.keepAliveMs,
  );
  Deno.unrefTimer(Number(keepAlive));
  timers.push(keepAlive);
  if (isCall) {
    let claiming = false;
    const claim = async () => {
      if (claiming || closed) return;
      claiming = true;
      try {
        const call = await directory.claimCall(sessionId, streamId);
        if (!call) return;
        const progress = await lastProgressOf(log, directory, streamId);
        options.resume(call, streamId, progress);
      } catch (error) {
        options.logger.warn("checking a resumed call failed", { session_id: sessionId, error });
      } finally {
        claiming = false;
      }
    };
    void claim();
    const timer = setInterval(claim, options.claimIntervalMs);
    Deno.unrefTimer(Number(timer));
    timers.push(timer);
  }
  return new Response(body, {
    headers: { ...HEADERS, "mcp-session-id": sessionId },
  });
}
