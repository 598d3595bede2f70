/**
 * One structured logger: JSON lines on stderr. stdout belongs to the protocol in stdio mode, so
 * nothing here ever writes to it. Secrets are redacted before a line is written.
 *
 * @module
 */

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** All log levels in order of severity. */
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A structured logger. Fields are merged into the JSON line. */
export interface Logger {
  /** Logs at debug level. */
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** Logs at info level. */
  info(msg: string, fields?: Record<string, unknown>): void;
  /** Logs at warn level. */
  warn(msg: string, fields?: Record<string, unknown>): void;
  /** Logs at error level. */
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines all carry `fields`. */
  child(fields: Record<string, unknown>): Logger;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Lines below this level are dropped. */
  level: LogLevel;
  /** Strings that must never appear in a log line (keys, tokens). */
  secrets?: readonly string[];
  /** Where lines go; defaults to stderr. */
  write?: (line: string) => void;
}

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // stderr closed: nothing sensible left to do with a log line.
  }
}

function errorFields(value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message };
  }
  return value;
}

/**
 * Replaces every occurrence of each secret in `text` with `[redacted]`, and any credential that
 * follows an auth scheme (`Key …`, `Bearer …`) even when it is not a known secret.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text.replace(/\b(Key|Bearer)\s+[A-Za-z0-9._~+/:=-]{8,}/g, "$1 [redacted]");
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.replaceAll(secret, "[redacted]");
  }
  return out;
}

/** Creates a logger writing JSON lines (time, level, msg, fields) to stderr. */
export function createLogger(options: LoggerOptions): Logger {
  const min = SEVERITY[options.level];
  const secrets = options.secrets ?? [];
  const write = options.write ?? writeStderr;
  const make = (base: Record<string, unknown>): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
      if (SEVERITY[level] < min) return;
      const record: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
      for (const [key, value] of Object.entries({ ...base, ...fields })) {
        record[key] = errorFields(value);
      }
      write(redact(JSON.stringify(record), secrets));
    };
    return {
      debug: (msg, fields) => emit("debug", msg, fields),
      info: (msg, fields) => emit("info", msg, fields),
      warn: (msg, fields) => emit("warn", msg, fields),
      error: (msg, fields) => emit("error", msg, fields),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make({});
}

/** A logger that drops everything (for tests and embedding). */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });
