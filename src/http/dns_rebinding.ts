/**
 * Host and Origin validation against DNS rebinding. Bound to a loopback address, only loopback
 * Host names and Origins pass unless the operator lists others; a present Origin that is neither
 * allowed nor the server's own origin is refused with 403, as the MCP spec requires.
 *
 * @module
 */

import { localhostAllowedHostnames, localhostAllowedOrigins } from "@modelcontextprotocol/server";
import { JsonRpcCode } from "../errors.ts";
import { jsonRpcErrorResponse } from "../protocol/jsonrpc_error.ts";

/** Options for {@linkcode createRequestGuard}. */
export interface GuardOptions {
  /** Whether the server is bound to a loopback address. */
  loopback: boolean;
  /** Allowed Host names (hostnames, port ignored); undefined = loopback names when loopback. */
  allowedHosts?: string[] | undefined;
  /** Allowed Origins, as full origins or bare hostnames; undefined = loopback when loopback. */
  allowedOrigins?: string[] | undefined;
}

/** A request guard: answers a 403 response to refuse, or undefined to let the request through. */
export type RequestGuard = (request: Request) => Response | undefined;

function hostnameOf(value: string): string | undefined {
  try {
    return new URL(value.includes("://") ? value : `http://${value}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Builds the Host/Origin guard for the MCP endpoints. */
export function createRequestGuard(options: GuardOptions): RequestGuard {
  const hosts = options.allowedHosts?.map((h) => hostnameOf(h) ?? h.toLowerCase()) ??
    (options.loopback ? localhostAllowedHostnames() : undefined);
  const origins = options.allowedOrigins ?? (options.loopback ? localhostAllowedOrigins() : []);
  const exactOrigins = new Set(
    origins.filter((o) => o.includes("://")).map((o) => o.replace(/\/+$/, "")),
  );
  const originHosts = new Set(
    origins.filter((o) => !o.includes("://")).map((o) => o.toLowerCase()),
  );
  const anyOrigin = origins.includes("*");

  return (request) => {
    const hostHeader = request.headers.get("host");
    if (hosts) {
      const hostname = hostHeader ? hostnameOf(hostHeader) : undefined;
      if (!hostname || !hosts.includes(hostname)) {
        return jsonRpcErrorResponse(
          403,
          JsonRpcCode.InvalidRequest,
          `Forbidden: Host "${hostHeader ?? ""}" is not allowed (see --allowed-hosts)`,
        );
      }
    }
    const origin = request.headers.get("origin");
    if (!origin || anyOrigin) return undefined;
    const originHost = hostnameOf(origin);
    const sameOrigin = !!hostHeader && origin.replace(/^https?:\/\//, "") === hostHeader;
    if (
      sameOrigin || exactOrigins.has(origin) ||
      (originHost !== undefined && originHosts.has(originHost))
    ) {
      return undefined;
    }
    return jsonRpcErrorResponse(
      403,
      JsonRpcCode.InvalidRequest,
      `Forbidden: Origin "${origin}" is not allowed (see --allowed-origins)`,
    );
  };
}
