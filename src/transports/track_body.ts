/**
 * Calls a function once a response body has been fully sent or abandoned by the client, so
 * callers can tell when a stream ends without buffering it.
 *
 * @module
 */

/** Returns `response` with `onDone` called when its body ends (or at once when it has none). */
export function onResponseDone(response: Response, onDone: () => void): Response {
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
