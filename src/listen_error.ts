/**
 * Why an HTTP listener could not start, said so that a person knows what to do: the address and
 * port, and the flag that picks another one. Used by the server, `deno task demo` and the fake fal.
 *
 * @module
 */

import { ConfigError } from "./errors.ts";

/** `host:port` as a person types it (`[::1]:8000` for IPv6). */
export function hostPort(host: string, port: number): string {
  return `${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
}

/**
 * A {@linkcode ConfigError} that explains a failed `Deno.serve`/`Deno.listen` on `host:port`, or
 * undefined when `error` is not about the address (then it is a real fault; rethrow it).
 */
export function listenError(error: unknown, host: string, port: number): ConfigError | undefined {
  const where = hostPort(host, port);
  if (error instanceof Deno.errors.AddrInUse) {
    return new ConfigError(
      `Cannot listen on ${where}: the port is already in use. Stop whatever uses it, or pick ` +
        "another with --port (0 picks any free port)",
    );
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new ConfigError(
      `Cannot listen on ${where}: this machine has no such address. Pick one of its own with ` +
        "--host (127.0.0.1 for this machine only)",
    );
  }
  if (error instanceof Deno.errors.PermissionDenied) {
    return new ConfigError(
      `Cannot listen on ${where}: the system refused (ports below 1024 need privileges). Pick ` +
        "another with --port",
    );
  }
  return undefined;
}
