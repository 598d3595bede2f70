/**
 * One structured logger on stderr: JSON lines for machines, or short human-readable lines
 * (`12:00:01 INFO  listening url=http://127.0.0.1:8000`) for a person watching a terminal.
 * stdout belongs to the protocol in stdio mode, so nothing here ever writes to it. Secrets are
 * redacted before a line is written, in either format.
 *
 * @module
 */

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** All log levels in order of severity. */
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** How lines are written: `json` (one object per line) or `pretty` (for people). */
export type LogFormat = "json" | "pretty";

/** The `--log-format` choices: `auto` is pretty when stderr is a terminal, JSON otherwise. */
export type LogFormatChoice = LogFormat | "auto";

/** Every `--log-format` choice. */
export const LOG_FORMATS: readonly LogFormatChoice[] = ["auto", "pretty", "json"];

/** Resolves `auto`: pretty when stderr is a terminal, JSON otherwise (pipes, files, collectors). */
export function resolveLogFormat(choice: LogFormatChoice): LogFormat {
  if (choice !== "auto") return choice;
  try {
    return Deno.stderr.isTerminal() ? "pretty" : "json";
  } catch {
    return "json";
  }
}

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
  /** Line format (default `json`). */
  format?: LogFormat;
  /** Colour the level in pretty lines (default: when stderr is a terminal and NO_COLOR is unset). */
  color?: boolean;
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

const LEVEL_COLORS: Record<LogLevel, string> = {
  debug: "\x1b[90m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};

/** A field value as it reads in a pretty line: bare when it is one plain word, else JSON. */
function prettyValue(value: unknown): string {
  if (value && typeof value === "object" && "message" in value && "name" in value) {
    return JSON.stringify(`${value.name}: ${value.message}`);
  }
  if (typeof value === "string" && /^[^\s"=]+$/.test(value)) return value;
  return JSON.stringify(value) ?? String(value);
}

/** One record as a line for people: `12:00:01 INFO  msg key=value …`. */
export function prettyLine(record: Record<string, unknown>, color = false): string {
  const { time, level, msg, ...fields } = record;
  const clock = typeof time === "string" ? time.slice(11, 19) : "";
  const name = String(level).toUpperCase().padEnd(5);
  const tag = color ? `${LEVEL_COLORS[level as LogLevel] ?? ""}${name}\x1b[0m` : name;
  const rest = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${prettyValue(value)}`);
  return [clock, tag, String(msg), ...rest].join(" ");
}

function stderrColor(): boolean {
  try {
    return Deno.stderr.isTerminal() && !Deno.noColor;
  } catch {
    return false;
  }
}

/** Creates a logger writing lines (time, level, msg, fields) to stderr, as JSON or pretty. */
export function createLogger(options: LoggerOptions): Logger {
  const min = SEVERITY[options.level];
  const secrets = options.secrets ?? [];
  const write = options.write ?? writeStderr;
  const pretty = options.format === "pretty";
  const color = pretty && (options.color ?? (options.write === undefined && stderrColor()));
  const make = (base: Record<string, unknown>): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
      if (SEVERITY[level] < min) return;
      const record: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
      for (const [key, value] of Object.entries({ ...base, ...fields })) {
        record[key] = errorFields(value);
      }
      write(redact(pretty ? prettyLine(record, color) : JSON.stringify(record), secrets));
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
