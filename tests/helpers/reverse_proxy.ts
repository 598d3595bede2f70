/**
 * A reverse proxy on the same host, as operators put nginx in front of the server: it forwards
 * every request to the server, so every caller, wherever they are, reaches the server from
 * 127.0.0.1. Tests use it to show that a loopback connection proves nothing about the caller.
 *
 * @module
 */

/** A running proxy. */
export interface ReverseProxy {
  /** The proxy's origin, what remote callers connect to. */
  url: string;
  /** Requests forwarded so far. */
  readonly forwarded: number;
  /** Stops it. */
  close(): Promise<void>;
}

const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "upgrade", "host"];

/** Starts a proxy on 127.0.0.1 (a free port) forwarding to `upstream` (an origin). */
export function startReverseProxy(upstream: string): ReverseProxy {
  let forwarded = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    forwarded++;
    const url = new URL(req.url);
    const headers = new Headers(req.headers);
    for (const name of HOP_BY_HOP) headers.delete(name);
    headers.set("x-forwarded-for", "203.0.113.9");
    const response = await fetch(`${upstream}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body: req.body,
      signal: req.signal,
    });
    return new Response(response.body, { status: response.status, headers: response.headers });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get forwarded() {
      return forwarded;
    },
    close: () => server.shutdown(),
  };
}
