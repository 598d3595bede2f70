/**
 * The ceiling: bare `Deno.serve` answering a fixed JSON body on 127.0.0.1. Prints its port.
 *
 * @module
 */

const body = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { ok: true } });
Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(port),
}, () => new Response(body, { headers: { "content-type": "application/json" } }));
