/**
 * Starting a configured server: builds the logger, the fal client and the one factory, then the
 * transports the config asks for (stdio, HTTP, or both sharing everything), and stops them all
 * cleanly on request.
 *
 * @module
 */

import { type Config, isLoopbackHost } from "./config.ts";
import { FalClient } from "./fal/client.ts";
import { resolveFalHosts } from "./fal/hosts.ts";
import { createHttpApp, type HttpApp } from "./http/app.ts";
import { SchemaCache } from "./fal/schema_cache.ts";
import { FalStorage } from "./fal/storage.ts";
import { JobManager } from "./jobs/manager.ts";
import { openJobStore } from "./jobs/open_store.ts";
import { createLogger, type Logger } from "./log.ts";
import { createServer, type ServerDeps } from "./server.ts";
import { startStdio, type StdioConnection } from "./transports/stdio.ts";
import { VERSION } from "./version.ts";

/** A running fal-mcp process. */
export interface RunningServer {
  /** The HTTP origin (`http://host:port`), when HTTP is served. */
  readonly httpUrl: string | undefined;
  /** The HTTP app, when HTTP is served. */
  readonly http: HttpApp | undefined;
  /** Resolves when the server has stopped (stdin closed in stdio mode, or shutdown). */
  readonly finished: Promise<void>;
  /** Stops every transport; resolves when done. */
  shutdown(): Promise<void>;
}

/** Options for {@linkcode startServer}. */
export interface StartOptions {
  /** Logger; defaults to JSON lines on stderr at the configured level. */
  logger?: Logger;
}

function urlHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** Starts the transports named by `config`. */
export async function startServer(
  config: Config,
  options: StartOptions = {},
): Promise<RunningServer> {
  const logger = options.logger ??
    createLogger({ level: config.logLevel, secrets: config.falKey ? [config.falKey] : [] });
  if (!config.falKey) {
    logger.warn(
      "FAL_KEY is not set: search_models works, tools that run models will answer with an error",
    );
  }
  const hosts = resolveFalHosts(config.falBaseUrl);
  const fal = new FalClient({ hosts, key: config.falKey, logger });
  const jobs = new JobManager({
    store: openJobStore(config.jobStore, config.stateDir, logger),
    logger,
  });
  const deps: ServerDeps = {
    fal,
    storage: new FalStorage({ fal, hosts, logger }),
    schemas: new SchemaCache(),
    jobs,
    settings: {
      inlineMaxBytes: config.inlineMaxBytes,
      outputDir: config.outputDir,
      saveBaseDir: config.saveBaseDir,
      syncWaitMs: config.syncWaitMs,
      models: config.models,
    },
    logger,
  };
  const factory = () => createServer(deps);
  // Jobs submitted before a restart are followed again, so their results are fetched and kept.
  if (fal.hasKey) await jobs.resume((owner) => owner === fal.owner ? fal : undefined);

  let http: HttpApp | undefined;
  let httpServer: Deno.HttpServer | undefined;
  let httpUrl: string | undefined;
  if (config.transport !== "stdio") {
    http = createHttpApp({
      factory,
      logger,
      guard: {
        loopback: isLoopbackHost(config.host),
        allowedHosts: config.allowedHosts,
        allowedOrigins: config.allowedOrigins,
      },
      maxSessions: config.maxSessions,
      sessionTtlMs: config.sessionTtlMs,
      keepAliveMs: config.keepAliveMs,
      readiness: () => ({ fal_key_configured: !!config.falKey }),
    });
    const listening = Promise.withResolvers<Deno.NetAddr>();
    const app = http;
    httpServer = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen: (addr) => listening.resolve(addr),
      onError: (error) => {
        logger.error("unhandled HTTP error", { error });
        return new Response("Internal server error", { status: 500 });
      },
    }, (request) => app.fetch(request));
    const addr = await listening.promise;
    httpUrl = `http://${urlHost(addr.hostname)}:${addr.port}`;
    logger.info("listening", { url: httpUrl, mcp: `${httpUrl}/mcp`, sse: `${httpUrl}/sse` });
  }

  let stdio: StdioConnection | undefined;
  if (config.transport !== "http") stdio = startStdio(factory, logger);
  logger.info("fal-mcp started", { version: VERSION, transport: config.transport });

  const done = Promise.withResolvers<void>();
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.allSettled([stdio?.close(), http?.close()]);
      await httpServer?.shutdown();
      await jobs.close();
      logger.info("fal-mcp stopped");
      done.resolve();
    })();
    return stopping;
  };

  if (stdio && config.transport === "stdio") {
    // The MCP stdio binding: exit promptly when the client closes stdin.
    stdio.ended.then(shutdown);
  } else if (stdio) {
    stdio.ended.then(() => logger.info("stdio client left; HTTP keeps serving"));
  }
  return { httpUrl, http, finished: done.promise, shutdown };
}
