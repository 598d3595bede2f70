/**
 * Calls a function once a response body has been fully sent or abandoned by the client, so
 * callers can tell when a stream ends without buffering it.
 *
 * @module
 */

/**
/**
 * Returns `response` with `onDone` called once when its body ends. A response whose body is
 * already complete (no body, a body of declared length, or anything but an event stream) is done
 * at once: wrapping it would only cost a stream copy per request. A stream can both fail and be
 * cancelled (a client that leaves mid-stream): `onDone` still runs only once, so a request is
 * logged and counted once.
 */
export function onResponseDone(response: Response, onDoneOnce: () => void): Response {
  let called = false;
  const onDone = () => {
    if (called) return;
    called = true;
    onDoneOnce();
  };
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
  if (!body) {
    onDone();
    return response;
  }
  const reader = body.getReader();
  const tracked = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          controller.close();
          onDone();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        controller.error(error);
        onDone();
      }
    },
    async cancel(reason) {
      onDone();
      await reader.cancel(reason);
    },
  });
  return new Response(tracked, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
