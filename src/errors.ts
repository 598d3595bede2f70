/**
 * The one domain error: something failed for a reason the caller can act on. It carries the HTTP
 * status and JSON-RPC code a transport should answer with. Messages say what failed and why and
 * never contain secrets.
 *
 * @module
 */

/** JSON-RPC error codes used by this server. */
export const JsonRpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

/** Options for {@linkcode FalMcpError}. */
export interface FalMcpErrorOptions {
  /** HTTP status a transport answers with (default 500). */
  status?: number;
  /** JSON-RPC error code (default -32603). */
  code?: number;
  /** The underlying error. */
  cause?: unknown;
}

/** An error with an HTTP status and a JSON-RPC code. */
export class FalMcpError extends Error {
  /** HTTP status a transport answers with. */
  readonly status: number;
  /** JSON-RPC error code. */
  readonly code: number;

  /** Creates the error; `message` is shown to users as is. */
  constructor(message: string, options: FalMcpErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "FalMcpError";
    this.status = options.status ?? 500;
    this.code = options.code ?? JsonRpcCode.InternalError;
  }
}

/** The message of anything thrown: an Error's message, or the value as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An error about the caller's arguments: HTTP 400 (or `status`) and JSON-RPC -32602. */
export function invalidParams(
  message: string,
  options: { status?: number; cause?: unknown } = {},
): FalMcpError {
  return new FalMcpError(message, {
    status: options.status ?? 400,
    code: JsonRpcCode.InvalidParams,
    cause: options.cause,
  });
}

/** A configuration value is missing or invalid. The CLI prints the message and exits 2. */
export class ConfigError extends Error {
  /** Creates the error; `message` names the setting and what was wrong with it. */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
