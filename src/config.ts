/**
 * Flags + environment + defaults → one validated {@linkcode Config}.
 *
 * Precedence for every setting: command-line flag > `FAL_MCP_*` variable > `PORT` (port only) >
 * default. Invalid values throw a {@linkcode ConfigError} whose message names the setting.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * const parsed = parseConfig(["--transport", "http", "--port", "9000"], {});
 * if (parsed.kind === "run") console.error(parsed.config.port); // 9000
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ConfigError } from "./errors.ts";
import { oauthResourceUrl } from "./http/oauth_resource.ts";
import { LOG_LEVELS, type LogLevel } from "./log.ts";
import { FAL_WEBHOOK_JWKS_URL } from "./fal/webhook.ts";

/** Which transports the process serves. */
export type TransportMode = "stdio" | "http" | "dual";

/** Every transport mode, for validation and help. */
export const TRANSPORT_MODES: readonly TransportMode[] = ["stdio", "http", "dual"];

/** The validated configuration of one server process. */
export interface Config {
  /** Which transports to serve. */
  transport: TransportMode;
  /** HTTP bind address. */
  host: string;
  /** HTTP port (0 picks a free port). */
  port: number;
  /** Minimum log level written to stderr. */
  logLevel: LogLevel;
  /** The fal.ai API key, if any. Never logged. */
  falKey: string | undefined;
  /** One origin standing in for every fal host (`B/queue`, `B/run`, `B/rest`, `B/api`). */
  falBaseUrl: string | undefined;
  /** Allowed `Origin` values for HTTP; undefined means the loopback default applies. */
  allowedOrigins: string[] | undefined;
  /** Allowed `Host` names for HTTP; undefined means the loopback default applies. */
  allowedHosts: string[] | undefined;
  /** Most concurrent Streamable HTTP sessions plus legacy SSE sessions. */
  maxSessions: number;
  /** A session idle this long (no request, no open stream) is ended. */
  sessionTtlMs: number;
  /** Interval of SSE keep-alive comments on idle streams. */
  keepAliveMs: number;
  /** Where persistent state (the job database) lives. */
  stateDir: string;
  /** Where job records are kept: SQLite under the state dir, or memory only. */
  jobStore: JobStoreKind;
  /**
   * A Redis shared by every instance of a cluster (`redis://` or `rediss://`, password in the
   * URL): jobs live there and are followed under leases. Never logged (it may hold a password).
   */
  redisUrl: string | undefined;
  /** Where fal's webhook signing keys are published (a JWKS). */
  falWebhookJwksUrl: string;
  /** When set, every generated file is also saved here (and HTTP callers may use `save_to`). */
  outputDir: string | undefined;
  /** Base folder for per-call `save_to` (the output dir, or `./fal-output` for stdio callers). */
  saveBaseDir: string;
  /** Images up to this many bytes are also returned inline (0 disables). */
  inlineMaxBytes: number;
  /** Slow tools (video, music) answer with a job handle after waiting this long. */
  syncWaitMs: number;
  /** Default model per task tool (`generate_image` → endpoint id), overriding built-ins. */
  models: Record<string, string>;
  /** Bearer tokens accepted on the MCP endpoints (empty: no token auth). Never logged. */
  authTokens: string[];
  /** Bring-your-own-key: each HTTP client sends its own fal key. */
  byok: boolean;
  /** OAuth 2.1 resource-server settings, when JWT access tokens are verified. */
  oauth: OAuthConfig | undefined;
  /** Serve without any auth on a non-loopback address (the operator's explicit choice). */
  allowUnauthenticated: boolean;
  /** The one folder whose files HTTP callers may name (upload_file, local media inputs). */
  allowLocalFiles: string | undefined;
  /** Largest file the server downloads (saved results, previews), in bytes. */
  maxDownloadBytes: number;
  /** Largest job result kept whole, in bytes; over it the record keeps only the media URLs. */
  maxResultBytes: number;
  /** Largest request body in bytes (413 above). */
  maxBodyBytes: number;
  /** Requests per minute per principal on the MCP endpoints (0 = unlimited). */
  rateLimitPerMinute: number;
  /** Most concurrent SSE streams (503 when full). */
  maxStreams: number;
  /** Most MCP requests served at once, long tool calls and streams included (503 when full). */
  maxInFlight: number;
  /** Most live sessions one caller (principal) may hold (503 above). */
  maxSessionsPerClient: number;
  /** How long a request body may take to arrive (408 after). */
  readTimeoutMs: number;
  /** On SIGTERM/SIGINT, how long in-flight calls may take to finish. */
  shutdownTimeoutMs: number;
  /** The public URL clients reach the server at (the OAuth resource; OAuth needs it or an audience). */
  publicUrl: string | undefined;
  /** Runs estimated above this many US dollars need the user's confirmation (off when unset). */
  confirmAboveUsd: number | undefined;
  /** Most US dollars of estimated runs per caller per UTC day (unlimited when unset). */
  budgetUsdPerDay: number | undefined;
  /**
   * Secret signing confirmation state and tokens (so any instance can resume a confirmation);
   * random per process when unset. Never logged.
   */
  stateSecret: string | undefined;
}

/** OAuth 2.1 resource-server settings. */
export interface OAuthConfig {
  /** The authorization server's issuer URL (`iss`). */
  issuer: string;
  /** The audience access tokens must carry (`aud`); defaults to `<public URL>/mcp`. */
  audience: string | undefined;
  /** Scopes every token must grant. */
  scopes: string[];
  /** Where the signing keys are; discovered from the issuer's metadata when unset. */
  jwksUrl: string | undefined;
}

/** Where job records are kept. */
export type JobStoreKind = "sqlite" | "memory";

/** What the command line asks for: run a server, or print help or the version. */
export type ParsedCommand =
  | { kind: "run"; config: Config }
  | { kind: "help" }
  | { kind: "version" };

/** Defaults, documented in README.md and `--help`. */
export const DEFAULTS = {
  transport: "stdio" as TransportMode,
  host: "127.0.0.1",
  port: 8000,
  logLevel: "info" as LogLevel,
  maxSessions: 1000,
  sessionTtlSeconds: 1800,
  keepAliveSeconds: 15,
  jobStore: "sqlite" as JobStoreKind,
  maxBodyBytes: 4 * 1024 * 1024,
  rateLimitPerMinute: 600,
  maxStreams: 2000,
  maxInFlight: 1000,
  maxSessionsPerClient: 100,
  readTimeoutSeconds: 30,
  shutdownTimeoutSeconds: 25,
  inlineMaxBytes: 262_144,
  maxDownloadBytes: 512 * 1024 * 1024,
  maxResultBytes: 16 * 1024 * 1024,
  syncWaitSeconds: 50,
} as const;

/** The `--help` text: every flag and environment variable. */
export const HELP_TEXT = `fal-mcp: an MCP server for the whole fal.ai model catalogue

Usage: fal-mcp [options]

Options:
  --transport MODE        stdio | http | dual (default: stdio)        env FAL_MCP_TRANSPORT
  --host HOST             HTTP bind address (default: 127.0.0.1)       env FAL_MCP_HOST
  --port N                HTTP port (default: 8000; 0 = any free port) env FAL_MCP_PORT, PORT
  --log-level LEVEL       debug | info | warn | error (default: info)  env FAL_MCP_LOG_LEVEL
  --fal-base-url URL      send every fal call to one origin            env FAL_BASE_URL
                          (URL/queue, URL/run, URL/rest, URL/api)
  --allowed-origins LIST  comma-separated allowed Origin values        env FAL_MCP_ALLOWED_ORIGINS
  --allowed-hosts LIST    comma-separated allowed Host names           env FAL_MCP_ALLOWED_HOSTS
  --max-sessions N        most concurrent HTTP sessions (default: 1000) env FAL_MCP_MAX_SESSIONS
  --session-ttl SECONDS   end sessions idle this long (default: 1800)   env FAL_MCP_SESSION_TTL
  --keep-alive SECONDS    SSE keep-alive comment interval (default: 15) env FAL_MCP_KEEP_ALIVE
  --state-dir DIR         where the job database lives                 env FAL_MCP_STATE_DIR
                          (default: $XDG_STATE_HOME/fal-mcp or ~/.local/state/fal-mcp)
  --job-store KIND        sqlite | memory (default: sqlite)            env FAL_MCP_JOB_STORE
  --redis-url URL         share jobs with other instances in this Redis (redis:// or rediss://)
                                                                       env FAL_MCP_REDIS_URL
  --output-dir DIR        also save every generated file here          env FAL_MCP_OUTPUT_DIR
                          (HTTP callers may use save_to only when this is set)
  --inline-max-bytes N    inline images up to N bytes (default: 262144; 0 = never)
                                                                       env FAL_MCP_INLINE_MAX_BYTES
  --sync-wait SECONDS     slow tools answer with a job id after this (default: 50)
                                                                       env FAL_MCP_SYNC_WAIT
  --model TASK=ENDPOINT   default model of a task tool, repeatable     env FAL_MCP_MODEL_<TASK>
                          (e.g. --model generate_image=fal-ai/flux/schnell)

HTTP security and limits:
  --auth-tokens-file PATH bearer tokens, one per line                  env FAL_MCP_AUTH_TOKENS (comma-separated)
  --byok                  each HTTP client sends its own fal key (X-Fal-Key, Authorization: Key …,
                          or Authorization: Bearer … when no tokens or OAuth are set)
                                                                       env FAL_MCP_BYOK=true
  --oauth-issuer URL      verify OAuth 2.1 JWT access tokens from this issuer
                                                                       env FAL_MCP_OAUTH_ISSUER
  --oauth-audience AUD    required token audience (default: <public-url>/mcp)
                                                                       env FAL_MCP_OAUTH_AUDIENCE
  --oauth-scopes LIST     comma-separated scopes every token needs     env FAL_MCP_OAUTH_SCOPES
  --oauth-jwks-url URL    signing keys (default: from issuer metadata) env FAL_MCP_OAUTH_JWKS_URL
  --public-url URL        the URL clients use (OAuth resource; OAuth needs it or --oauth-audience);
                          with HTTP, jobs are also submitted with fal's webhook to URL/fal/webhook
                                                                       env FAL_MCP_PUBLIC_URL
  --fal-webhook-jwks-url URL  fal's webhook signing keys (default: fal's JWKS)
                                                                       env FAL_MCP_FAL_WEBHOOK_JWKS_URL
  --allow-unauthenticated serve a non-loopback address without auth    env FAL_MCP_ALLOW_UNAUTHENTICATED=true
  --allow-local-files DIR let HTTP callers upload files inside DIR by path (symlinks resolved)
                                                                       env FAL_MCP_ALLOW_LOCAL_FILES
  --max-download-bytes N  largest file downloaded (default: 536870912) env FAL_MCP_MAX_DOWNLOAD_BYTES
  --max-result-bytes N    largest job result kept whole (default: 16777216)
                                                                       env FAL_MCP_MAX_RESULT_BYTES
  --max-body-bytes N      largest request body (default: 4194304)      env FAL_MCP_MAX_BODY_BYTES
  --rate-limit N          requests per minute per client (default: 600; 0 = off)
                                                                       env FAL_MCP_RATE_LIMIT
  --max-streams N         most concurrent SSE streams (default: 2000)  env FAL_MCP_MAX_STREAMS
  --max-in-flight N       most MCP requests at once, streams included (default: 1000)
                                                                       env FAL_MCP_MAX_IN_FLIGHT
  --max-sessions-per-client N
                          most sessions one client holds (default: 100) env FAL_MCP_MAX_SESSIONS_PER_CLIENT
  --read-timeout SECONDS  time a request body may take (default: 30)    env FAL_MCP_READ_TIMEOUT
  --shutdown-timeout S    grace for in-flight calls on SIGTERM (default: 25)
                                                                       env FAL_MCP_SHUTDOWN_TIMEOUT

Costs:
  --confirm-above-usd X   ask the user before a run estimated above X US dollars (default: off)
                                                                       env FAL_MCP_CONFIRM_ABOVE_USD
  --budget-usd-per-day X  refuse runs past X US dollars per caller per UTC day (default: off)
                                                                       env FAL_MCP_BUDGET_USD_PER_DAY
  --help                  print this help and exit
  --version               print the version and exit

Environment:
  FAL_KEY                 your fal.ai API key (https://fal.ai/dashboard/keys)
  FAL_MCP_STATE_SECRET    secret (32+ characters) signing cost confirmations; set the same
                          value on every instance behind one URL (default: random per process)
`;

/** Environment variables, by name. */
export type Env = Record<string, string | undefined>;

function pick(
  flag: string | undefined,
  env: Env,
  ...names: string[]
): [string, string] | undefined {
  if (flag !== undefined) return [flag, "flag"];
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== "") return [value, name];
  }
  return undefined;
}

function describeSource(source: string, flagName: string): string {
  return source === "flag" ? `--${flagName}` : source;
}

function parseChoice<T extends string>(
  picked: [string, string] | undefined,
  flagName: string,
  choices: readonly T[],
  fallback: T,
): T {
  if (!picked) return fallback;
  const [value, source] = picked;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(
    `Invalid ${describeSource(source, flagName)} "${value}": expected one of ${choices.join(", ")}`,
  );
}

function parseInteger(
  picked: [string, string] | undefined,
  flagName: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (!picked) return fallback;
  const [value, source] = picked;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `Invalid ${
        describeSource(source, flagName)
      } "${value}": expected a whole number from ${min} to ${max}`,
    );
  }
  return n;
}

function parseUsd(picked: [string, string] | undefined, flagName: string): number | undefined {
  if (!picked) return undefined;
  const [value, source] = picked;
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(n) || n > 1_000_000) {
    throw new ConfigError(
      `Invalid ${
        describeSource(source, flagName)
      } "${value}": expected an amount of US dollars such as 0.50 (0 to 1000000)`,
    );
  }
  return n;
}

function parseSecret(env: Env): string | undefined {
  const value = env.FAL_MCP_STATE_SECRET?.trim();
  if (!value) return undefined;
  if (new TextEncoder().encode(value).length < 32) {
    throw new ConfigError(
      "Invalid FAL_MCP_STATE_SECRET: it must be at least 32 characters long " +
        "(generate one with: openssl rand -hex 32)",
    );
  }
  return value;
}

function parseUrl(picked: [string, string] | undefined, flagName: string): string | undefined {
  if (!picked) return undefined;
  const [value, source] = picked;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`Invalid ${describeSource(source, flagName)} "${value}": not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(
      `Invalid ${describeSource(source, flagName)} "${value}": expected an http or https URL`,
    );
  }
  return url.href.replace(/\/+$/, "");
}

/** A `redis://` or `rediss://` URL; the message never repeats the value (it may hold a password). */
function parseRedisUrl(picked: [string, string] | undefined): string | undefined {
  if (!picked) return undefined;
  const [value, source] = picked;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "redis:" && url.protocol !== "rediss:") || !url.hostname) {
    throw new ConfigError(
      `Invalid ${describeSource(source, "redis-url")}: expected redis://[user:password@]host:port` +
        "[/db] or rediss://… for TLS",
    );
  }
  return value;
}

function parseList(picked: [string, string] | undefined): string[] | undefined {
  if (!picked) return undefined;
  return picked[0].split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

/**
 * Parses command-line arguments and environment variables into a command.
 * Throws {@linkcode ConfigError} on an unknown flag or an invalid value.
 */
export function parseConfig(args: readonly string[], env: Env): ParsedCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        transport: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        "log-level": { type: "string" },
        "fal-base-url": { type: "string" },
        "allowed-origins": { type: "string" },
        "allowed-hosts": { type: "string" },
        "max-sessions": { type: "string" },
        "session-ttl": { type: "string" },
        "keep-alive": { type: "string" },
        "state-dir": { type: "string" },
        "job-store": { type: "string" },
        "redis-url": { type: "string" },
        "fal-webhook-jwks-url": { type: "string" },
        "output-dir": { type: "string" },
        "inline-max-bytes": { type: "string" },
        "sync-wait": { type: "string" },
        "confirm-above-usd": { type: "string" },
        "budget-usd-per-day": { type: "string" },
        model: { type: "string", multiple: true },
        "auth-tokens-file": { type: "string" },
        byok: { type: "boolean" },
        "oauth-issuer": { type: "string" },
        "oauth-audience": { type: "string" },
        "oauth-scopes": { type: "string" },
        "oauth-jwks-url": { type: "string" },
        "public-url": { type: "string" },
        "allow-unauthenticated": { type: "boolean" },
        "allow-local-files": { type: "string" },
        "max-download-bytes": { type: "string" },
        "max-result-bytes": { type: "string" },
        "max-body-bytes": { type: "string" },
        "rate-limit": { type: "string" },
        "max-streams": { type: "string" },
        "max-in-flight": { type: "string" },
        "max-sessions-per-client": { type: "string" },
        "read-timeout": { type: "string" },
        "shutdown-timeout": { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    }));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${message.split("\n")[0]} (see --help)`);
  }
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };

  /** A whole-number setting from its flag or environment variable. */
  const integer = (flag: string, envName: string, min: number, max: number, fallback: number) =>
    parseInteger(
      pick((values as Record<string, unknown>)[flag] as string | undefined, env, envName),
      flag,
      min,
      max,
      fallback,
    );
  const host = pick(values.host, env, "FAL_MCP_HOST")?.[0] ?? DEFAULTS.host;
  if (host.trim() === "" || /[\s/]/.test(host)) {
    throw new ConfigError(`Invalid host "${host}": expected a hostname or IP address`);
  }
  const config: Config = {
    transport: parseChoice(
      pick(values.transport, env, "FAL_MCP_TRANSPORT"),
      "transport",
      TRANSPORT_MODES,
      DEFAULTS.transport,
    ),
    host,
    port: parseInteger(
      pick(values.port, env, "FAL_MCP_PORT", "PORT"),
      "port",
      0,
      65535,
      DEFAULTS.port,
    ),
    logLevel: parseChoice(
      pick(values["log-level"], env, "FAL_MCP_LOG_LEVEL"),
      "log-level",
      LOG_LEVELS,
      DEFAULTS.logLevel,
    ),
    falKey: env.FAL_KEY?.trim() || undefined,
    falBaseUrl: parseUrl(pick(values["fal-base-url"], env, "FAL_BASE_URL"), "fal-base-url"),
    allowedOrigins: parseList(pick(values["allowed-origins"], env, "FAL_MCP_ALLOWED_ORIGINS")),
    allowedHosts: parseList(pick(values["allowed-hosts"], env, "FAL_MCP_ALLOWED_HOSTS")),
    maxSessions: integer(
      "max-sessions",
      "FAL_MCP_MAX_SESSIONS",
      1,
      1_000_000,
      DEFAULTS.maxSessions,
    ),
    sessionTtlMs: 1000 *
      integer("session-ttl", "FAL_MCP_SESSION_TTL", 1, 86_400 * 7, DEFAULTS.sessionTtlSeconds),
    keepAliveMs: 1000 *
      integer("keep-alive", "FAL_MCP_KEEP_ALIVE", 1, 3600, DEFAULTS.keepAliveSeconds),
    stateDir: pick(values["state-dir"], env, "FAL_MCP_STATE_DIR")?.[0] ?? defaultStateDir(env),
    jobStore: parseChoice(
      pick(values["job-store"], env, "FAL_MCP_JOB_STORE"),
      "job-store",
      ["sqlite", "memory"] as const,
      DEFAULTS.jobStore,
    ),
    outputDir: pick(values["output-dir"], env, "FAL_MCP_OUTPUT_DIR")?.[0],
    saveBaseDir: "",
    inlineMaxBytes: integer(
      "inline-max-bytes",
      "FAL_MCP_INLINE_MAX_BYTES",
      0,
      50 * 1024 * 1024,
      DEFAULTS.inlineMaxBytes,
    ),
    syncWaitMs: 1000 * integer("sync-wait", "FAL_MCP_SYNC_WAIT", 0, 3600, DEFAULTS.syncWaitSeconds),
    models: parseModels(values.model ?? [], env),
    authTokens: parseAuthTokens(values["auth-tokens-file"], env),
    byok: values.byok ?? parseBoolean(env, "FAL_MCP_BYOK"),
    oauth: parseOAuth(values, env),
    allowUnauthenticated: values["allow-unauthenticated"] ??
      parseBoolean(env, "FAL_MCP_ALLOW_UNAUTHENTICATED"),
    allowLocalFiles: parseSharedFolder(
      pick(values["allow-local-files"], env, "FAL_MCP_ALLOW_LOCAL_FILES"),
    ),
    maxDownloadBytes: integer(
      "max-download-bytes",
      "FAL_MCP_MAX_DOWNLOAD_BYTES",
      1024,
      Number.MAX_SAFE_INTEGER,
      DEFAULTS.maxDownloadBytes,
    ),
    maxResultBytes: integer(
      "max-result-bytes",
      "FAL_MCP_MAX_RESULT_BYTES",
      1024,
      1024 * 1024 * 1024,
      DEFAULTS.maxResultBytes,
    ),
    maxBodyBytes: integer(
      "max-body-bytes",
      "FAL_MCP_MAX_BODY_BYTES",
      1024,
      1024 * 1024 * 1024,
      DEFAULTS.maxBodyBytes,
    ),
    rateLimitPerMinute: integer(
      "rate-limit",
      "FAL_MCP_RATE_LIMIT",
      0,
      1_000_000,
      DEFAULTS.rateLimitPerMinute,
    ),
    maxStreams: integer("max-streams", "FAL_MCP_MAX_STREAMS", 1, 1_000_000, DEFAULTS.maxStreams),
    maxInFlight: integer(
      "max-in-flight",
      "FAL_MCP_MAX_IN_FLIGHT",
      1,
      1_000_000,
      DEFAULTS.maxInFlight,
    ),
    maxSessionsPerClient: integer(
      "max-sessions-per-client",
      "FAL_MCP_MAX_SESSIONS_PER_CLIENT",
      1,
      1_000_000,
      DEFAULTS.maxSessionsPerClient,
    ),
    readTimeoutMs: 1000 *
      integer("read-timeout", "FAL_MCP_READ_TIMEOUT", 1, 3600, DEFAULTS.readTimeoutSeconds),
    shutdownTimeoutMs: 1000 *
      integer(
        "shutdown-timeout",
        "FAL_MCP_SHUTDOWN_TIMEOUT",
        0,
        3600,
        DEFAULTS.shutdownTimeoutSeconds,
      ),
    publicUrl: parseUrl(pick(values["public-url"], env, "FAL_MCP_PUBLIC_URL"), "public-url"),
    redisUrl: parseRedisUrl(pick(values["redis-url"], env, "FAL_MCP_REDIS_URL")),
    falWebhookJwksUrl: parseUrl(
      pick(values["fal-webhook-jwks-url"], env, "FAL_MCP_FAL_WEBHOOK_JWKS_URL"),
      "fal-webhook-jwks-url",
    ) ?? FAL_WEBHOOK_JWKS_URL,
    confirmAboveUsd: parseUsd(
      pick(values["confirm-above-usd"], env, "FAL_MCP_CONFIRM_ABOVE_USD"),
      "confirm-above-usd",
    ),
    budgetUsdPerDay: parseUsd(
      pick(values["budget-usd-per-day"], env, "FAL_MCP_BUDGET_USD_PER_DAY"),
      "budget-usd-per-day",
    ),
    stateSecret: parseSecret(env),
  };
  config.saveBaseDir = config.outputDir ?? "fal-output";
  // OAuth accepts tokens only for a resource named by configuration, never by a request.
  if (config.oauth) oauthResourceUrl({ publicUrl: config.publicUrl, ...config.oauth });
  return { kind: "run", config };
}

/** The folder named by `--allow-local-files`: it must exist and be a folder. */
function parseSharedFolder(picked: [string, string] | undefined): string | undefined {
  if (!picked) return undefined;
  const [value, source] = picked;
  const what = `Invalid ${describeSource(source, "allow-local-files")} "${value}"`;
  let info: Deno.FileInfo | undefined;
  try {
    info = Deno.statSync(value);
  } catch {
    // reported below
  }
  if (!info?.isDirectory) {
    throw new ConfigError(
      `${what}: expected an existing folder, the only one whose files HTTP callers may name ` +
        "(e.g. --allow-local-files /srv/fal-inputs)",
    );
  }
  return value;
}

function parseBoolean(env: Env, name: string): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === "") return false;
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off"].includes(value)) return false;
  throw new ConfigError(`Invalid ${name} "${env[name]}": expected true or false`);
}

/** Tokens from FAL_MCP_AUTH_TOKENS (comma-separated) and the tokens file (one per line). */
function parseAuthTokens(file: string | undefined, env: Env): string[] {
  const tokens = (env.FAL_MCP_AUTH_TOKENS ?? "").split(",");
  if (file !== undefined) {
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (error) {
      throw new ConfigError(
        `Cannot read --auth-tokens-file "${file}": ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
    tokens.push(...text.split(/\r?\n/).filter((line) => !line.trimStart().startsWith("#")));
  }
  const cleaned = tokens.map((t) => t.trim()).filter((t) => t.length > 0);
  const short = cleaned.find((t) => t.length < 16);
  if (short !== undefined) {
    throw new ConfigError(
      "Invalid auth token: every token must be at least 16 characters (use a random one, e.g. " +
        "`openssl rand -hex 32`)",
    );
  }
  return [...new Set(cleaned)];
}

function parseOAuth(values: Record<string, unknown>, env: Env): OAuthConfig | undefined {
  const issuer = parseUrl(
    pick(values["oauth-issuer"] as string | undefined, env, "FAL_MCP_OAUTH_ISSUER"),
    "oauth-issuer",
  );
  const audience = pick(
    values["oauth-audience"] as string | undefined,
    env,
    "FAL_MCP_OAUTH_AUDIENCE",
  )?.[0];
  const scopes =
    parseList(pick(values["oauth-scopes"] as string | undefined, env, "FAL_MCP_OAUTH_SCOPES")) ??
      [];
  const jwksUrl = parseUrl(
    pick(values["oauth-jwks-url"] as string | undefined, env, "FAL_MCP_OAUTH_JWKS_URL"),
    "oauth-jwks-url",
  );
  if (!issuer) {
    if (audience || scopes.length || jwksUrl) {
      throw new ConfigError(
        "--oauth-audience, --oauth-scopes and --oauth-jwks-url need --oauth-issuer",
      );
    }
    return undefined;
  }
  return { issuer, audience, scopes, jwksUrl };
}

const MODEL_ENV_PREFIX = "FAL_MCP_MODEL_";

/** `--model TASK=ENDPOINT` flags and `FAL_MCP_MODEL_<TASK>` variables → task → endpoint id. */
function parseModels(flags: readonly string[], env: Env): Record<string, string> {
  const models: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(MODEL_ENV_PREFIX) || !value) continue;
    models[name.slice(MODEL_ENV_PREFIX.length).toLowerCase()] = value.trim();
  }
  for (const flag of flags) {
    const match = /^([a-z_]+)=(\S+)$/.exec(flag.trim());
    if (!match) {
      throw new ConfigError(
        `Invalid --model "${flag}": expected TASK=ENDPOINT, e.g. generate_image=fal-ai/flux/dev`,
      );
    }
    models[match[1]!] = match[2]!;
  }
  return models;
}

/** The platform's state folder for fal-mcp (XDG on Unix, LOCALAPPDATA on Windows). */
function defaultStateDir(env: Env): string {
  if (env.XDG_STATE_HOME) return `${env.XDG_STATE_HOME}/fal-mcp`;
  if (env.LOCALAPPDATA) return `${env.LOCALAPPDATA}\\fal-mcp`;
  if (env.HOME) return `${env.HOME}/.local/state/fal-mcp`;
  return ".fal-mcp";
}

/** Whether `host` is a loopback bind address (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}
