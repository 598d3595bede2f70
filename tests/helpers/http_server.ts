/**
 * Starts the real server (HTTP transport) in this process on 127.0.0.1 and a free port, for
 * tests. Every test stops it with `close()`.
 *
 * @module
 */

import { type Config, parseConfig } from "../../src/config.ts";
import { createLogger, type Logger, silentLogger } from "../../src/log.ts";
import { type RunningServer, startServer } from "../../src/runtime.ts";

/** A test HTTP server. */
export interface TestHttpServer {
  /** Origin, e.g. `http://127.0.0.1:43121`. */
  url: string;
  /** The running server. */
  server: RunningServer;
  /** Stops it. */
  close(): Promise<void>;
}

/** Options for {@linkcode startTestHttpServer}. */
export interface TestHttpServerOptions {
  /** Extra CLI flags. */
  args?: string[];
  /** Environment (FAL_KEY, FAL_BASE_URL, …). */
  env?: Record<string, string>;
  /** Config overrides applied after parsing (e.g. millisecond TTLs). */
  overrides?: Partial<Config>;
  /** Captures log lines instead of dropping them. */
  logLines?: string[];
}

/** Starts the server over HTTP on a free loopback port. */
export async function startTestHttpServer(
  options: TestHttpServerOptions = {},
): Promise<TestHttpServer> {
  const parsed = parseConfig(
    [
      "--transport",
      "http",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--job-store",
      "memory",
      ...(options.args ?? []),
    ],
    options.env ?? {},
  );
  if (parsed.kind !== "run") throw new Error("unexpected command");
  const config = { ...parsed.config, ...options.overrides };
  const lines = options.logLines;
  const logger: Logger = lines
    ? createLogger({ level: "debug", write: (line) => lines.push(line) })
    : silentLogger;
  const server = await startServer(config, { logger });
  return { url: server.httpUrl!, server, close: () => server.shutdown() };
}
