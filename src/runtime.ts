/**
 * Starting a configured server, in small wiring steps: the logger, the fal client, the job store,
 * the deps every caller's tools get, the HTTP app, the listener, stdio, and the graceful stop.
 * The transports the config asks for (stdio, HTTP, or both) share everything built here.
 *
 * @module
 */

import { assertSafeBind } from "./bind_policy.ts";
import { CallHandoff } from "./call_handoff.ts";
import { CallsInFlight } from "./calls_in_flight.ts";
import { type JobBackend, openJobBackend } from "./cluster/job_backend.ts";
import { createSharedSessions } from "./cluster/shared_sessions.ts";
import { falWebhookHandler } from "./cluster/webhook_route.ts";
import { type Config, isLoopbackHost } from "./config.ts";
import type { ServerDeps } from "./context.ts";
import { CostGuard } from "./costs/cost_guard.ts";
import { RedisCostLedger } from "./costs/redis_ledger.ts";
import { Catalogue } from "./fal/catalogue.ts";
import { FalClient } from "./fal/client.ts";
import { type FalHosts, resolveFalHosts } from "./fal/hosts.ts";
import { SchemaCache } from "./fal/schema_cache.ts";
import { FalStorage } from "./fal/storage.ts";
import { WebhookVerifier } from "./fal/webhook.ts";
import { MediaFetcher } from "./files/media_fetch.ts";
import { createHttpApp, type HttpApp } from "./http/app.ts";
import { createAuthenticator } from "./http/authenticate.ts";
import { BearerTokens } from "./http/bearer_tokens.ts";
import { listenResilient, type ResilientServer } from "./http/listen.ts";
import { OAuthVerifier } from "./http/oauth.ts";
import { oauthMetadataRoute } from "./http/oauth_metadata.ts";
import { oauthResourceUrl } from "./http/oauth_resource.ts";
import { adoptLegacyJobs } from "./jobs/legacy_owners.ts";
import { JobManager } from "./jobs/manager.ts";
import { listenError } from "./listen_error.ts";
import { createLogger, type Logger, resolveLogFormat } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { LOCAL, type Principal } from "./principal.ts";
import { followJobs } from "./resources/job_subscriptions.ts";
import { createServer } from "./server.ts";
import { sleep } from "./sleep.ts";
import { createStudio } from "./studio/handler.ts";
import { detailedTask } from "./tools/mcp_tasks.ts";
import { createListenHandler } from "./transports/listen.ts";
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

/** What the wiring steps share: the process-wide parts every caller's server is built from. */
interface Core {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** The tool calls under way, which shutdown waits for. */
  underWay: CallsInFlight;
  /** In a cluster, session calls waiting on a job that another instance can finish. */
  handoff: CallHandoff | undefined;
  /** Aborts when the server stops taking work. */
  stopWork: AbortController;
  hosts: FalHosts;
  /** The server's own fal client (of `FAL_KEY`). */
  fal: FalClient;
  backend: JobBackend;
  jobs: JobManager;
}

/** The deps of stdio's one caller, and of each HTTP caller. */
interface Deps {
  /** The local owner's deps (stdio). */
  local: ServerDeps;
  /** The deps of an HTTP caller: with bring-your-own-key, a fal client of their own key only. */
  forCaller(principal: Principal): ServerDeps;
}

/** The listening HTTP side. */
interface HttpSide {
  app: HttpApp;
  server: ResilientServer;
  url: string;
}

function urlHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** Starts the transports named by `config`. */
export async function startServer(
  config: Config,
  options: StartOptions = {},
): Promise<RunningServer> {
  assertSafeBind(config);
  if (config.transport !== "stdio") probeListen(config.host, config.port);
  const logger = options.logger ?? processLogger(config);
  if (!config.falKey && !config.byok) {
    logger.warn(
      "FAL_KEY is not set: search_models works, tools that run models will answer with an error",
    );
  }
  const core = await openStore(config, logger, buildFalClient(config, logger));
  const deps = buildDeps(core);
  let http: HttpSide | undefined;
  if (config.transport !== "stdio") {
    const app = buildHttpApp(core, deps);
    try {
      http = await listen(core, app);
    } catch (error) {
      await Promise.allSettled([app.close(), core.jobs.close()]);
      await core.backend.close();
      throw listenError(error, config.host, config.port) ?? error;
    }
  }
  const stdio = config.transport !== "http" ? startStdioLeg(core, deps.local) : undefined;
  logger.info("fal-mcp started", { version: VERSION, transport: config.transport });

  const done = Promise.withResolvers<void>();
  const shutdown = shutdownSteps(core, http, stdio, done.resolve);
  if (stdio && config.transport === "stdio") {
    // The MCP stdio binding: exit promptly when the client closes stdin.
    stdio.ended.then(shutdown);
  } else if (stdio) {
    stdio.ended.then(() => logger.info("stdio client left; HTTP keeps serving"));
  }
  return { httpUrl: http?.url, http: http?.app, finished: done.promise, shutdown };
}

/** The process logger: JSON lines (or pretty) on stderr, with every configured secret redacted. */
function processLogger(config: Config): Logger {
  return createLogger({
    level: config.logLevel,
    format: resolveLogFormat(config.logFormat),
    secrets: [
      ...(config.falKey ? [config.falKey] : []),
      ...(config.stateSecret ? [config.stateSecret] : []),
      ...config.authTokens,
    ],
  });
}

/** Wiring step: the server's own fal client, and the metrics registry it reports to. */
function buildFalClient(
  config: Config,
  logger: Logger,
): { fal: FalClient; hosts: FalHosts; metrics: Metrics } {
  const metrics = new Metrics();
  const hosts = resolveFalHosts(config.falBaseUrl);
  return { fal: new FalClient({ hosts, key: config.falKey, logger, metrics }), hosts, metrics };
}

/**
 * Wiring step: the job store (embedded, or Redis in a cluster) and the job manager on it; jobs
 * of earlier versions are adopted, and jobs submitted before a restart are followed again.
 */
async function openStore(
  config: Config,
  logger: Logger,
  falSide: { fal: FalClient; hosts: FalHosts; metrics: Metrics },
): Promise<Core> {
  const { fal, hosts, metrics } = falSide;
  const backend = await openJobBackend(config, logger);
  const jobs = new JobManager({
    store: backend.store,
    coordinator: backend.coordinator,
    webhookUrl: webhookUrl(config),
    logger,
    metrics,
    maxResultBytes: config.maxResultBytes,
    serverFal: fal,
  });
  await adoptLegacyJobs(jobs.store, {
    byok: config.byok,
    serverKeyId: fal.hasKey ? fal.owner : undefined,
  }, logger);
  await jobs.resume();
  const underWay = new CallsInFlight();
  metrics.gauge(
    "fal_mcp_tool_calls_in_flight",
    "Tool calls under way",
    () => [[{}, underWay.count]],
  );
  return {
    config,
    logger,
    metrics,
    underWay,
    // In a cluster, a session call waiting on a job can be finished by another instance.
    handoff: backend.cluster ? new CallHandoff() : undefined,
    stopWork: new AbortController(),
    hosts,
    fal,
    backend,
    jobs,
  };
}

/** Where fal reports each job's outcome: `/fal/webhook`, when the server has a public URL. */
function webhookUrl(config: Config): string | undefined {
  const webhooks = config.transport !== "stdio" && config.publicUrl !== undefined;
  return webhooks ? `${config.publicUrl}/fal/webhook` : undefined;
}

/** Wiring step: what every tool needs, for the local owner and for each HTTP caller. */
function buildDeps(core: Core): Deps {
  const { config, logger, metrics, fal, hosts } = core;
  const local: ServerDeps = {
    principal: LOCAL,
    fal,
    storage: new FalStorage({ fal, hosts, logger }),
    media: new MediaFetcher({ maxBytes: config.maxDownloadBytes, falBaseUrl: config.falBaseUrl }),
    schemas: new SchemaCache(),
    jobs: core.jobs,
    settings: {
      inlineMaxBytes: config.inlineMaxBytes,
      outputDir: config.outputDir,
      saveBaseDir: config.saveBaseDir,
      syncWaitMs: config.syncWaitMs,
      models: config.models,
      localFiles: { kind: "any" },
    },
    logger,
    metrics,
    underWay: core.underWay,
    calls: core.handoff,
    stopping: core.stopWork.signal,
    catalogue: new Catalogue(fal),
    costs: new CostGuard({
      confirmAboveUsd: config.confirmAboveUsd,
      budgetUsdPerDay: config.budgetUsdPerDay,
      secret: config.stateSecret,
      logger,
      // In a cluster, daily spend and used confirm tokens are counted in Redis by every instance.
      ...(core.backend.redis
        ? { ledger: new RedisCostLedger(core.backend.redis.client, core.backend.redis) }
        : {}),
    }),
  };
  // The server's machine belongs to the operator: where an HTTP caller connects from proves
  // nothing (a same-host proxy makes everyone 127.0.0.1). HTTP callers name server files only
  // inside the folder the operator shared, and results are written only to --output-dir.
  const remote: ServerDeps = {
    ...local,
    settings: {
      ...local.settings,
      localFiles: config.allowLocalFiles === undefined
        ? { kind: "none" }
        : { kind: "inside", root: config.allowLocalFiles },
      saveBaseDir: config.outputDir,
    },
  };
  const forCaller = (principal: Principal): ServerDeps => {
    if (!config.byok) return { ...remote, principal };
    const own = new FalClient({
      hosts,
      key: principal.falKey,
      logger,
      metrics,
      missingKeyMessage: "No fal key: this server uses each client's own key. Send yours in " +
        "the X-Fal-Key header (create one at https://fal.ai/dashboard/keys).",
      rejectedKeyHint: "this server uses each client's own key: check the key your client " +
        "sends in X-Fal-Key or Authorization: Key (keys: https://fal.ai/dashboard/keys)",
    });
    return {
      ...remote,
      principal,
      fal: own,
      storage: new FalStorage({ fal: own, hosts, logger }),
    };
  };
  return { local, forCaller };
}

/** Wiring step: the HTTP app (routes, check chain, transports) for the configured mode. */
function buildHttpApp(core: Core, deps: Deps): HttpApp {
  const { config, logger, jobs, backend } = core;
  const { forCaller } = deps;
  // The OAuth resource comes from configuration only (never from a request's Host).
  const resourceUrl = config.oauth
    ? oauthResourceUrl({ publicUrl: config.publicUrl, ...config.oauth })
    : "";
  const hook = webhookUrl(config);
  return createHttpApp({
    factory: (principal) => createServer(forCaller(principal)),
    logger,
    guard: {
      loopback: isLoopbackHost(config.host),
      allowedHosts: config.allowedHosts,
      allowedOrigins: config.allowedOrigins,
    },
    maxSessions: config.maxSessions,
    sessionTtlMs: config.sessionTtlMs,
    keepAliveMs: config.keepAliveMs,
    maxBodyBytes: config.maxBodyBytes,
    rateLimitPerMinute: config.rateLimitPerMinute,
    maxStreams: config.maxStreams,
    maxInFlight: config.maxInFlight,
    maxSessionsPerClient: config.maxSessionsPerClient,
    readTimeoutMs: config.readTimeoutMs,
    sharedSessions: backend.cluster
      ? createSharedSessions({
        cluster: backend.cluster,
        ttlMs: config.sessionTtlMs,
        keepAliveMs: config.keepAliveMs,
        retryMs: 1000,
        logger,
      })
      : undefined,
    calls: core.handoff,
    metrics: core.metrics,
    authenticate: createAuthenticator({
      tokens: new BearerTokens(config.authTokens),
      oauth: config.oauth ? new OAuthVerifier(config.oauth) : undefined,
      byok: config.byok,
      resourceUrl,
    }),
    oauthMetadata: config.oauth
      ? oauthMetadataRoute(resourceUrl, {
        issuer: config.oauth.issuer,
        scopes: config.oauth.scopes,
      })
      : undefined,
    falWebhook: hook
      ? falWebhookHandler(new WebhookVerifier({ jwksUrl: config.falWebhookJwksUrl }), jobs, logger)
      : undefined,
    readiness: async () => {
      const cluster = backend.readiness();
      // With Redis away, the store probe would only repeat that: Redis's answer says it all.
      if (cluster.not_ready !== undefined) {
        return { fal_key_configured: !!config.falKey, byok: config.byok, ...cluster };
      }
      const store = await jobs.storeHealth();
      return {
        fal_key_configured: !!config.falKey,
        byok: config.byok,
        ...cluster,
        job_store: store.writable ? "writable" : "cannot write",
        ...(store.writable ? {} : {
          not_ready: `the job store cannot write (${store.reason}); jobs cannot be submitted`,
        }),
      };
    },
    studio: createStudio(forCaller),
    listen: createListenHandler({
      events: jobs.events,
      ownerOf: (principal) => forCaller(principal).principal.id,
      findJob: (id, principal) => jobs.get(forCaller(principal), id).catch(() => undefined),
      taskOf: (record, principal) => detailedTask(record, forCaller(principal), undefined),
      keepAliveMs: config.keepAliveMs,
      stopping: core.stopWork.signal,
    }),
  });
}

/** Wiring step: binds the app to the configured address and logs where everything is. */
async function listen(core: Core, app: HttpApp): Promise<HttpSide> {
  const { config, logger } = core;
  const server = await listenResilient(
    { hostname: config.host, port: config.port, logger },
    (request) => app.fetch(request),
  );
  const url = `http://${urlHost(server.addr.hostname)}:${server.addr.port}`;
  logger.info("listening", {
    url,
    mcp: `${url}/mcp`,
    sse: `${url}/sse`,
    studio: `${url}/studio`,
    auth: config.oauth ? "oauth" : config.authTokens.length ? "tokens" : "none",
    byok: config.byok,
  });
  return { app, server, url };
}

/**
 * Wiring step: stdio's one long-lived connection, following the caller's jobs (both eras) and
 * their task notifications.
 */
function startStdioLeg(core: Core, deps: ServerDeps): StdioConnection {
  const { jobs } = core;
  return startStdio(
    () => {
      const server = createServer(deps);
      followJobs(server, deps);
      return server;
    },
    core.logger,
    {
      events: jobs.events,
      owner: deps.principal.id,
      findJob: (id) => jobs.get(deps, id).catch(() => undefined),
      taskOf: (record) => detailedTask(record, deps, undefined),
    },
  );
}

/**
 * Wiring step: the graceful stop. New MCP requests are refused, tool calls under way finish (up
 * to the grace period), calls still waiting on fal then answer with their job id, and the
 * transports, the listener and the job store close in that order. Runs once, however often
 * called.
 */
function shutdownSteps(
  core: Core,
  http: HttpSide | undefined,
  stdio: StdioConnection | undefined,
  stopped: () => void,
): () => Promise<void> {
  const { config, logger, underWay } = core;
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      logger.info("fal-mcp stopping", { grace_ms: config.shutdownTimeoutMs });
      http?.app.drain();
      // Let tool calls under way finish (their jobs are recorded either way), up to the grace.
      await underWay.idle(config.shutdownTimeoutMs);
      // Calls still waiting on fal answer now with their job id; their jobs go on at fal.
      core.stopWork.abort();
      await underWay.idle(2000);
      // A call that just ended hands its answer to its transport in the same turn: let those
      // sends run before the transports close.
      await sleep(0);
      await Promise.allSettled([stdio?.close(), http?.app.close()]);
      await Promise.race([http?.server.shutdown(), sleep(2000)]);
      await core.jobs.close();
      await core.backend.close();
      logger.info("fal-mcp stopped");
      stopped();
    })();
    return stopping;
  };
}

/** Fails before anything starts (and logs) when `host:port` cannot be listened on. */
function probeListen(host: string, port: number): void {
  if (port === 0) return;
  try {
    Deno.listen({ hostname: host, port }).close();
  } catch (error) {
    throw listenError(error, host, port) ?? error;
  }
}
