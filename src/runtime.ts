/**
 * Starting a configured server: builds the logger, the fal client and the one factory, then the
 * transports the config asks for (stdio, HTTP, or both sharing everything), and stops them all
 * cleanly on request.
 *
 * @module
 */

import { type Config, isLoopbackHost } from "./config.ts";
import { MediaFetcher } from "./files/media_fetch.ts";
import { FalClient } from "./fal/client.ts";
import { resolveFalHosts } from "./fal/hosts.ts";
import { createHttpApp, type HttpApp } from "./http/app.ts";
import { listenResilient, type ResilientServer } from "./http/listen.ts";
import { SchemaCache } from "./fal/schema_cache.ts";
import { FalStorage } from "./fal/storage.ts";
import { JobManager } from "./jobs/manager.ts";
import { openJobBackend } from "./cluster/job_backend.ts";
import { createSharedSessions } from "./cluster/shared_sessions.ts";
import { CallHandoff } from "./call_handoff.ts";
import { falWebhookHandler } from "./cluster/webhook_route.ts";
import { WebhookVerifier } from "./fal/webhook.ts";
import { listenError } from "./listen_error.ts";
import { createLogger, type Logger, resolveLogFormat } from "./log.ts";
import { Metrics } from "./metrics.ts";
import { assertSafeBind } from "./bind_policy.ts";
import { createAuthenticator } from "./http/authenticate.ts";
import { BearerTokens } from "./http/bearer_tokens.ts";
import {
  OAuthVerifier,
  protectedResourceMetadata,
  protectedResourceMetadataPaths,
} from "./http/oauth.ts";
import { oauthResourceUrl } from "./http/oauth_resource.ts";
import { LOCAL, type Principal } from "./principal.ts";
import { adoptLegacyJobs } from "./jobs/legacy_owners.ts";
import { sleep } from "./sleep.ts";
import { TOOLS_IN_FLIGHT } from "./tools/tool_result.ts";
import { createServer, type ServerDeps } from "./server.ts";
import { createStudio } from "./studio/handler.ts";
import { startStdio, type StdioConnection } from "./transports/stdio.ts";
import { createListenHandler } from "./transports/listen.ts";
import { CostGuard } from "./costs/cost_guard.ts";
import { RedisCostLedger } from "./costs/redis_ledger.ts";
import { followJobs } from "./resources/job_subscriptions.ts";
import { Catalogue } from "./fal/catalogue.ts";
import { detailedTask } from "./tools/mcp_tasks.ts";
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
  assertSafeBind(config);
  if (config.transport !== "stdio") probeListen(config.host, config.port);
  const logger = options.logger ??
    createLogger({
      level: config.logLevel,
      format: resolveLogFormat(config.logFormat),
      secrets: [
        ...(config.falKey ? [config.falKey] : []),
        ...(config.stateSecret ? [config.stateSecret] : []),
        ...config.authTokens,
      ],
    });
  if (!config.falKey && !config.byok) {
    logger.warn(
      "FAL_KEY is not set: search_models works, tools that run models will answer with an error",
    );
  }
  const metrics = new Metrics();
  const stopWork = new AbortController();
  const hosts = resolveFalHosts(config.falBaseUrl);
  const fal = new FalClient({ hosts, key: config.falKey, logger, metrics });
  const backend = await openJobBackend(config, logger);
  // fal reports each job's outcome to /fal/webhook when the server is reachable at a public URL.
  const webhooks = config.transport !== "stdio" && config.publicUrl !== undefined;
  const jobs = new JobManager({
    store: backend.store,
    coordinator: backend.coordinator,
    webhookUrl: webhooks ? `${config.publicUrl}/fal/webhook` : undefined,
    logger,
    metrics,
    maxResultBytes: config.maxResultBytes,
    serverFal: fal,
  });
  // In a cluster, a session call waiting on a job can be finished by another instance.
  const calls = backend.cluster ? new CallHandoff() : undefined;
  const deps: ServerDeps = {
    principal: LOCAL,
    calls,
    fal,
    storage: new FalStorage({ fal, hosts, logger }),
    media: new MediaFetcher({ maxBytes: config.maxDownloadBytes, falBaseUrl: config.falBaseUrl }),
    schemas: new SchemaCache(),
    jobs,
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
    stopping: stopWork.signal,
    catalogue: new Catalogue(fal),
    costs: new CostGuard({
      confirmAboveUsd: config.confirmAboveUsd,
      budgetUsdPerDay: config.budgetUsdPerDay,
      secret: config.stateSecret,
      logger,
      // In a cluster, daily spend and used confirm tokens are counted in Redis by every instance.
      ...(backend.redis
        ? { ledger: new RedisCostLedger(backend.redis.client, backend.redis) }
        : {}),
    }),
  };
  /** The deps of one caller: with bring-your-own-key, a fal client of their own key only. */
  // The server's machine belongs to the operator: where an HTTP caller connects from proves
  // nothing (a same-host proxy makes everyone 127.0.0.1). HTTP callers name server files only
  // inside the folder the operator shared, and results are written only to --output-dir.
  const httpDeps: ServerDeps = {
    ...deps,
    settings: {
      ...deps.settings,
      localFiles: config.allowLocalFiles === undefined
        ? { kind: "none" }
        : { kind: "inside", root: config.allowLocalFiles },
      saveBaseDir: config.outputDir,
    },
  };
  const depsFor = (principal: Principal): ServerDeps => {
    if (!config.byok) return { ...httpDeps, principal };
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
      ...httpDeps,
      principal,
      fal: own,
      storage: new FalStorage({ fal: own, hosts, logger }),
    };
  };
  await adoptLegacyJobs(jobs.store, {
    byok: config.byok,
    serverKeyId: fal.hasKey ? fal.owner : undefined,
  }, logger);
  // Jobs submitted before a restart are followed again, so their results are fetched and kept.
  await jobs.resume();

  let http: HttpApp | undefined;
  let httpServer: ResilientServer | undefined;
  let httpUrl: string | undefined;
  if (config.transport !== "stdio") {
    // The OAuth resource comes from configuration only (never from a request's Host).
    const resourceUrl = config.oauth
      ? oauthResourceUrl({ publicUrl: config.publicUrl, ...config.oauth })
      : "";
    const oauth = config.oauth ? new OAuthVerifier(config.oauth) : undefined;
    http = createHttpApp({
      factory: (principal) => createServer(depsFor(principal)),
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
      calls,
      metrics,
      authenticate: createAuthenticator({
        tokens: new BearerTokens(config.authTokens),
        oauth,
        byok: config.byok,
        resourceUrl,
      }),
      wellKnown: config.oauth
        ? (_request, path) => protectedResourceMetadataResponse(path, resourceUrl, config)
        : undefined,
      falWebhook: webhooks
        ? falWebhookHandler(
          new WebhookVerifier({ jwksUrl: config.falWebhookJwksUrl }),
          jobs,
          logger,
        )
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
      studio: createStudio(depsFor),
      listen: createListenHandler({
        events: jobs.events,
        ownerOf: (principal) => depsFor(principal).principal.id,
        findJob: (id, principal) => jobs.get(depsFor(principal), id).catch(() => undefined),
        taskOf: (record, principal) => detailedTask(record, depsFor(principal), undefined),
        keepAliveMs: config.keepAliveMs,
        stopping: stopWork.signal,
      }),
    });
    const app = http;
    try {
      httpServer = await listenResilient(
        { hostname: config.host, port: config.port, logger },
        (request) => app.fetch(request),
      );
    } catch (error) {
      await Promise.allSettled([http.close(), jobs.close()]);
      await backend.close();
      throw listenError(error, config.host, config.port) ?? error;
    }
    const addr = httpServer.addr;
    httpUrl = `http://${urlHost(addr.hostname)}:${addr.port}`;
    logger.info("listening", {
      url: httpUrl,
      mcp: `${httpUrl}/mcp`,
      sse: `${httpUrl}/sse`,
      studio: `${httpUrl}/studio`,
      auth: config.oauth ? "oauth" : config.authTokens.length ? "tokens" : "none",
      byok: config.byok,
    });
  }

  let stdio: StdioConnection | undefined;
  if (config.transport !== "http") {
    // One long-lived connection: it follows the caller's jobs from the start (both eras).
    stdio = startStdio(
      () => {
        const server = createServer(deps);
        followJobs(server, deps);
        return server;
      },
      logger,
      {
        events: jobs.events,
        owner: deps.principal.id,
        findJob: (id) => jobs.get(deps, id).catch(() => undefined),
        taskOf: (record) => detailedTask(record, deps, undefined),
      },
    );
  }
  logger.info("fal-mcp started", { version: VERSION, transport: config.transport });

  const done = Promise.withResolvers<void>();
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      logger.info("fal-mcp stopping", { grace_ms: config.shutdownTimeoutMs });
      http?.drain();
      // Let tool calls under way finish (their jobs are recorded either way), up to the grace.
      const idle = () => metrics.value(TOOLS_IN_FLIGHT) <= 0;
      await waitUntil(idle, config.shutdownTimeoutMs);
      // Calls still waiting on fal answer now with their job id; their jobs go on at fal.
      stopWork.abort();
      await waitUntil(idle, 2000);
      await Promise.allSettled([stdio?.close(), http?.close()]);
      await Promise.race([httpServer?.shutdown(), sleep(2000)]);
      await jobs.close();
      await backend.close();
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

/** Fails before anything starts (and logs) when `host:port` cannot be listened on. */
function probeListen(host: string, port: number): void {
  if (port === 0) return;
  try {
    Deno.listen({ hostname: host, port }).close();
  } catch (error) {
    throw listenError(error, host, port) ?? error;
  }
}

/** Waits until `condition` holds or `timeoutMs` passed. */
async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(50);
}

/** RFC 9728 protected-resource metadata at its well-known paths (OAuth mode). */
function protectedResourceMetadataResponse(
  path: string,
  resourceUrl: string,
  config: Config,
): Response | undefined {
  if (!config.oauth || !protectedResourceMetadataPaths().includes(path)) return undefined;
  const body = protectedResourceMetadata(resourceUrl, {
    issuer: config.oauth.issuer,
    scopes: config.oauth.scopes,
  });
  return Response.json(body, {
    headers: { "cache-control": "max-age=300", "access-control-allow-origin": "*" },
  });
}
