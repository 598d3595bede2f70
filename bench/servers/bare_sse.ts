/**
 * The floor of a held call: bare `Deno.serve` keeping each request's SSE response open and
 * sending a small event every 800 ms, as a long tool call with progress does. Prints its port.
 *
 * @module
 */

const encoder = new TextEncoder();
const event = encoder.encode(
  `data: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress" })}\n\n`,
);

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(port),
}, async (request) => {
  await request.text();
  let timer: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(": open\n\n"));
      timer = setInterval(() => controller.enqueue(event), 800);
    },
    cancel() {
      clearInterval(timer);
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
});
