/**
 * The one rule about where a server may listen: a non-loopback address only with authentication,
 * unless the operator explicitly asks for an open server.
 *
 * @module
 */

import { type Config, isLoopbackHost } from "./config.ts";
import { ConfigError } from "./errors.ts";

/** Throws a {@linkcode ConfigError} when `config` would serve a public address with no auth. */
export function assertSafeBind(
  config: Pick<
    Config,
    "transport" | "host" | "port" | "authTokens" | "oauth" | "allowUnauthenticated"
  >,
): void {
  if (config.transport === "stdio" || isLoopbackHost(config.host)) return;
  if (config.authTokens.length || config.oauth || config.allowUnauthenticated) return;
  throw new ConfigError(
    `Refusing to serve ${config.host}:${config.port} without authentication: set ` +
      "FAL_MCP_AUTH_TOKENS (or --auth-tokens-file) or --oauth-issuer, or pass " +
      "--allow-unauthenticated if this server is meant to be open",
  );
}
