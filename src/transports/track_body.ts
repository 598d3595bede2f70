/**
 * Calls a function once a response body has been fully sent or abandoned by the client, so
 * callers can tell when a stream ends without buffering it.
 *
 * @module
 */

/**
 * Returns `response` with `onDone` called exactly once when its body ends, errors or is
 * cancelled by the client. A response whose body is already complete (no body, a body of
 * declared length, or anything but an event stream) is done at once: wrapping it would only
 * cost a stream copy per request. A cancel that races a pending read (a dropped stream) would
 * otherwise end it twice and send counters negative.
 */
export function onResponseDone(response: Response, onDone: () => void): Response {
  // Decide from the headers first: reading `response.body` turns a fixed body into a stream,
  // which costs the runtime its fast path for static responses.
  const headers = response.headers;
  if (
    headers.has("content-length") ||
    !(headers.get("content-type")?.includes("text/event-stream") ?? false)
  ) {
    onDone();
    return response;
  }
  const body = response.body;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onDone();
  };
  if (!body) {
    end();
    return response;
  }
  const reader = body.getReader();
  let outer: ReadableStreamDefaultController<Uint8Array> | undefined;
  // An error is seen at once, not only at the next read: a client that stopped reading (its
  // socket full, so nothing reads) must still stop being counted when its stream is dropped.
  reader.closed.catch((error) => {
    end();
    try {
      outer?.error(error);
    } catch {
      // already closed or errored
    }
  });
  const tracked = new ReadableStream<Uint8Array>({
    start(controller) {
      outer = controller;
    },
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          end();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        end();
        try {
          controller.error(error);
        } catch {
          // already cancelled: nothing left to report it to
        }
      }
    },
    async cancel(reason) {
      end();
      await reader.cancel(reason);
    },
  });
  return new Response(tracked, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
