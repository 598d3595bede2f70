/**
 * Embed fal-mcp in your own Deno application: the server factory, the HTTP handler (`/mcp`,
 * `/sse`, `/messages/`, `/health`, `/ready`), the fal client and the configuration parser.
 *
 * @example Serve fal-mcp from your own Deno.serve
 * ```ts
 * import {
 *   createHttpApp,
 *   createServer,
 *   FalClient,
 *   FalStorage,
 *   JobManager,
 *   MediaFetcher,
 *   MemoryJobStore,
 *   resolveFalHosts,
 *   SchemaCache,
 *   type ServerDeps,
 *   silentLogger,
 * } from "@fal-mcp/fal-mcp/server";
 *
 * const logger = silentLogger;
 * const hosts = resolveFalHosts(Deno.env.get("FAL_BASE_URL")); // unset: the real fal hosts
 * const fal = new FalClient({ hosts, key: Deno.env.get("FAL_KEY"), logger });
 * const deps: ServerDeps = {
 *   fal,
 *   storage: new FalStorage({ fal, hosts, logger }),
 *   // Result media are fetched only from fal's hosts (and FAL_BASE_URL), at most 512 MiB each.
 *   media: new MediaFetcher({ maxBytes: 512 * 1024 * 1024, falBaseUrl: Deno.env.get("FAL_BASE_URL") }),
 *   schemas: new SchemaCache(),
 *   jobs: new JobManager({ store: new MemoryJobStore(), logger }),
 *   settings: {
 *     inlineMaxBytes: 262_144,
 *     outputDir: undefined,
 *     saveBaseDir: "fal-output",
 *     syncWaitMs: 50_000,
 *     models: {},
 *     localFiles: { kind: "none" }, // HTTP callers name no server file
 *   },
 *   logger,
 *   principal: { id: "local", kind: "local", scopes: [] }, // who the tools act for
 * };
 * const app = createHttpApp({
 *   factory: () => createServer(deps),
 *   logger,
 *   guard: { loopback: true },
 *   maxSessions: 100,
 *   sessionTtlMs: 30 * 60_000,
 *   keepAliveMs: 15_000,
 * });
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
 *
 * // MCP clients connect to /mcp; nothing reaches fal until a tool runs.
 * const health = await fetch(`http://127.0.0.1:${server.addr.port}/health`);
 * console.error(health.status, await health.json()); // 200 { status: "ok", … }
 *
 * await app.close();
 * await server.shutdown();
 * await deps.jobs.close();
 * ```
 *
 * @module
 */

export { createServer, type ServerDeps, type ToolSettings } from "./src/server.ts";
export type {
  AuthInfo,
  CallToolResult,
  EventStore,
  InputRequiredResult,
  JSONRPCMessage,
  McpServer,
  ServerContext,
} from "./src/sdk_types.ts";
export { createHttpApp, type HttpApp, type HttpAppOptions } from "./src/http/app.ts";
export type { GuardOptions } from "./src/http/dns_rebinding.ts";
export {
  type Authenticator,
  type AuthenticatorOptions,
  createAuthenticator,
} from "./src/http/authenticate.ts";
export { BearerTokens } from "./src/http/bearer_tokens.ts";
export { type OAuthMetadataRoute, oauthMetadataRoute } from "./src/http/oauth_metadata.ts";
export { CallsInFlight } from "./src/calls_in_flight.ts";
export {
  type OAuthFailure,
  type OAuthOptions,
  type OAuthResult,
  type OAuthSuccess,
  OAuthVerifier,
} from "./src/http/oauth.ts";
export type { Principal } from "./src/principal.ts";
export type { PrincipalKind } from "./src/principal.ts";
export type { ServerFactory, StreamableHttpHandler } from "./src/transports/streamable_http.ts";
export type { LegacySseHandler } from "./src/transports/sse.ts";
export {
  type Config,
  type Env,
  type JobStoreKind,
  type OAuthConfig,
  parseConfig,
  type ParsedCommand,
  type TransportMode,
} from "./src/config.ts";
export { type RunningServer, type StartOptions, startServer } from "./src/runtime.ts";
export {
  FalClient,
  type FalClientOptions,
  type FalRequest,
  type RetryPolicy,
} from "./src/fal/client.ts";
export type {
  CancelOutcome,
  FalLog,
  FalModel,
  ModelMetadata,
  ModelsPage,
  ModelsQuery,
  QueueStatus,
  QueueSubmission,
} from "./src/fal/types.ts";
export { type FalHosts, resolveFalHosts } from "./src/fal/hosts.ts";
export { FalStorage, type FalStorageOptions, type UploadedFile } from "./src/fal/storage.ts";
export { type ModelInfo, SchemaCache } from "./src/fal/schema_cache.ts";
export type { JsonSchema } from "./src/fal/openapi.ts";
export {
  type JobCaller,
  JobManager,
  type JobManagerOptions,
  type StoreHealth,
  type WaitOptions,
} from "./src/jobs/manager.ts";
export type { JobCoordinator, JobLease, JobUpdate } from "./src/jobs/coordinator.ts";
export { type AdoptedJob, CallHandoff, type CallIdentity } from "./src/call_handoff.ts";
export type {
  ResumedCall,
  SharedEventStore,
  SharedSession,
  SharedSessions,
} from "./src/transports/shared_sessions.ts";
export type {
  JobLog,
  JobPage,
  JobQuery,
  JobRecord,
  JobStatus,
  JobStore,
  OwnerRewrite,
} from "./src/jobs/types.ts";
export { MemoryJobStore } from "./src/jobs/memory_store.ts";
export { SqliteJobStore } from "./src/jobs/sqlite_store.ts";
export { type Labels, Metrics } from "./src/metrics.ts";
export {
  createLogger,
  type LogFormat,
  type LogFormatChoice,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  silentLogger,
} from "./src/log.ts";
export { VERSION } from "./src/version.ts";
export {
  type ConfirmState,
  type CostDecision,
  CostGuard,
  type CostGuardOptions,
  type PlannedRun,
} from "./src/costs/cost_guard.ts";
export {
  type Charge,
  type ChargeOutcome,
  type CostLedger,
  SpendLedger,
} from "./src/costs/budget.ts";
export { Catalogue } from "./src/fal/catalogue.ts";
export {
  MediaFetcher,
  type MediaFetchOptions,
  type MediaGetOptions,
} from "./src/files/media_fetch.ts";
export type { LocalFileAccess } from "./src/files/local_files.ts";
export { Admission, type AdmissionOptions, type AdmissionTicket } from "./src/http/admission.ts";
export { JobListChanges, type JobListListener } from "./src/jobs/list_changes.ts";
export {
  type JobEvent,
  type JobEventKind,
  type JobEventListener,
  JobEvents,
} from "./src/jobs/events.ts";
export {
  createListenHandler,
  type ListenHandler,
  type ListenOptions,
  type ListenRequest,
} from "./src/transports/listen.ts";
