/**
 * Flags + environment + defaults → one validated {@linkcode Config}.
 *
 * Every setting is declared once, in the `SETTINGS` table of settings.ts; this module reads them in
 * table order and assembles the few fields that combine several settings (auth tokens, OAuth).
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
import { ConfigError, errorMessage } from "./errors.ts";
import { oauthResourceUrl } from "./http/oauth_resource.ts";
import type { LogFormatChoice, LogLevel } from "./log.ts";
import {
  type Env,
  type FlagValue,
  type JobStoreKind,
  settingList,
  type SettingValues,
  TRANSPORT_MODES,
  type TransportMode,
} from "./settings.ts";

export { type Env, type JobStoreKind, TRANSPORT_MODES, type TransportMode };
export { HELP_TEXT } from "./help_text.ts";

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
  /** Log line format: pretty, JSON, or auto (pretty when stderr is a terminal). */
  logFormat: LogFormatChoice;
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
  /** Inline image previews of one result take at most this many bytes in all (0 disables). */
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
  /** Runs estimated above this many US dollars need the user's confirmation (off when unset). */
  confirmAboveUsd: number | undefined;
  /** Most US dollars of estimated runs per caller per UTC day (unlimited when unset). */
  budgetUsdPerDay: number | undefined;
  /**
   * Secret signing confirmation state and tokens (so any instance can resume a confirmation);
   * random per process when unset. Never logged.
   */
  stateSecret: string | undefined;
  /** The public URL clients reach the server at (the OAuth resource; OAuth needs it or an audience). */
  publicUrl: string | undefined;
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

/** What the command line asks for: run a server, or print help or the version. */
export type ParsedCommand =
  | { kind: "run"; config: Config }
  | { kind: "help" }
  | { kind: "version" };

type ArgOptions = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean }
>;

/** parseArgs options, derived from the settings table. */
const ARG_OPTIONS: ArgOptions = Object.fromEntries(
  settingList().flatMap(([, s]) =>
    s.flag === undefined ? [] : [[s.flag, {
      type: s.type,
      ...(s.short ? { short: s.short } : {}),
      ...(s.multiple ? { multiple: true } : {}),
    }]]
  ),
);

/**
 * `--port -1` would read as a missing value followed by an unknown option `-1`: a value that
 * starts with a dash but is not itself a flag is joined to its option (`--port=-1`), so it gets
 * the same "Invalid --port" message as any other bad value.
 */
function joinDashValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const option = /^--([a-z][a-z0-9-]*)$/.exec(arg)?.[1];
    if (
      option !== undefined && ARG_OPTIONS[option]?.type === "string" && next !== undefined &&
      next.startsWith("-") && !/^--?[a-zA-Z]/.test(next)
    ) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** parseArgs' own wording, restated in ours. */
function argumentError(error: unknown): ConfigError {
  const message = errorMessage(error);
  const code = (error as { code?: string }).code;
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) {
    return new ConfigError(`Unknown option ${option} (see --help)`);
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option) {
    return new ConfigError(
      /argument missing/.test(message)
        ? `Missing value for ${option} (see --help)`
        : `${option} takes no value (see --help)`,
    );
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    return new ConfigError(`${message.split("\n")[0]} (options start with --; see --help)`);
  }
  return new ConfigError(`${message.split("\n")[0]} (see --help)`);
}

/**
 * Parses command-line arguments and environment variables into a command.
 * Throws {@linkcode ConfigError} on an unknown flag or an invalid value.
 */
export function parseConfig(args: readonly string[], env: Env): ParsedCommand {
  let flags: Record<string, FlagValue>;
  try {
    flags = parseArgs({
      args: joinDashValues(args),
      strict: true,
      allowPositionals: false,
      options: ARG_OPTIONS,
    }).values as Record<string, FlagValue>;
  } catch (error) {
    throw argumentError(error);
  }
  if (flags.help) return { kind: "help" };
  if (flags.version) return { kind: "version" };
  const values = Object.fromEntries(
    settingList().map((
      [name, s],
    ) => [name, s.read(s.flag === undefined ? undefined : flags[s.flag], env)]),
  ) as SettingValues;
  const {
    help: _help,
    version: _version,
    authTokens,
    authTokensFile,
    oauthIssuer,
    oauthAudience,
    oauthScopes,
    oauthJwksUrl,
    falKey,
    ...direct
  } = values;
  const config: Config = {
    ...direct,
    falKey: falKey?.trim() || undefined,
    saveBaseDir: direct.outputDir ?? "fal-output",
    authTokens: readAuthTokens(authTokens ?? [], authTokensFile),
    oauth: oauthConfig(oauthIssuer, oauthAudience, oauthScopes ?? [], oauthJwksUrl),
  };
  // OAuth accepts tokens only for a resource named by configuration, never by a request.
  if (config.oauth) oauthResourceUrl({ publicUrl: config.publicUrl, ...config.oauth });
  return { kind: "run", config };
}

/** Tokens from FAL_MCP_AUTH_TOKENS (comma-separated) and the tokens file (one per line). */
function readAuthTokens(fromEnv: readonly string[], file: string | undefined): string[] {
  const tokens = [...fromEnv];
  if (file !== undefined) {
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (error) {
      throw new ConfigError(`Cannot read --auth-tokens-file "${file}": ${errorMessage(error)}`);
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

function oauthConfig(
  issuer: string | undefined,
  audience: string | undefined,
  scopes: string[],
  jwksUrl: string | undefined,
): OAuthConfig | undefined {
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

/** Whether `host` is a loopback bind address (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}
