/**
 * Embed fal-mcp in your own Deno application: the server factory, the HTTP handler (`/mcp`,
 * `/sse`, `/messages/`, `/health`, `/ready`), the fal client and the configuration parser.
 *
 * @example Serve fal-mcp from your own Deno.serve
 * ```ts
 * import { createHttpApp, createServer, FalClient, resolveFalHosts, silentLogger } from "@fal-mcp/fal-mcp/server";
 *
 * const fal = new FalClient({ hosts: resolveFalHosts(), key: Deno.env.get("FAL_KEY") });
 * const app = createHttpApp({
 *   factory: () => createServer({ fal, logger: silentLogger }),
 *   logger: silentLogger,
 *   guard: { loopback: true },
 *   maxSessions: 100,
 *   sessionTtlMs: 30 * 60_000,
 *   keepAliveMs: 15_000,
 * });
 * Deno.serve({ hostname: "127.0.0.1", port: 8000 }, app.fetch);
 * ```
 *
 * @module
 */

export { createServer, type ServerDeps } from "./src/server.ts";
export { createHttpApp, type HttpApp, type HttpAppOptions } from "./src/http/app.ts";
export type { GuardOptions } from "./src/http/dns_rebinding.ts";
export { type Config, parseConfig, type ParsedCommand } from "./src/config.ts";
export { type RunningServer, type StartOptions, startServer } from "./src/runtime.ts";
export { FalClient, type FalClientOptions } from "./src/fal/client.ts";
export { type FinishedJob, type FollowOptions, runQueuedJob } from "./src/fal/follow_job.ts";
export { type FalHosts, resolveFalHosts } from "./src/fal/hosts.ts";
export { createLogger, type Logger, type LoggerOptions, silentLogger } from "./src/log.ts";
export { VERSION } from "./src/version.ts";
