/**
 * What the access log learns about a request while it is served: the JSON-RPC method and tool,
 * noted by whichever transport parses the body. Kept beside the request, never in the request.
 *
 * @module
 */

/** The JSON-RPC facts of one HTTP request. */
export interface RpcFacts {
  /** JSON-RPC method (`tools/call`, …); several for a batch. */
  method?: string | undefined;
  /** Tool name of a `tools/call`. */
  tool?: string | undefined;
}

const facts = new WeakMap<Request, RpcFacts>();

/** Notes the JSON-RPC method and tool of a parsed body. */
export function noteRpc(request: Request, body: unknown): void {
  const messages = Array.isArray(body) ? body : [body];
  const methods = messages
    .map((m) => (m as { method?: unknown } | null)?.method)
    .filter((m): m is string => typeof m === "string");
  const call = messages.find((m) => (m as { method?: unknown } | null)?.method === "tools/call") as
    | { params?: { name?: unknown } }
    | undefined;
  facts.set(request, {
    method: methods.length ? methods.join(",").slice(0, 200) : undefined,
    tool: typeof call?.params?.name === "string" ? call.params.name.slice(0, 100) : undefined,
  });
}

/** The facts noted for a request. */
export function rpcFactsOf(request: Request): RpcFacts {
  return facts.get(request) ?? {};
}
