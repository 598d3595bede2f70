/**
 * Every setting of the server, declared once: its flag, environment variables, type, default,
 * `--help` line and documentation row. The parser (`config.ts`), the `--help` text
 * (`help_text.ts`) and the tables in docs/configuration.md are all derived from
 * {@linkcode SETTINGS}; nothing else lists settings.
 *
 * To add a setting, add one entry here, keyed by its {@linkcode Config} field (a type error shows
 * when the two disagree), then run `deno task docs` to rewrite the documentation tables.
 *
 * @module
 */

import { ConfigError } from "./errors.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormatChoice, type LogLevel } from "./log.ts";
import { TASK_MODEL_KEYS } from "./task_models.ts";
import { FAL_WEBHOOK_JWKS_URL } from "./fal/webhook.ts";

/** Environment variables, by name. */
export type Env = Record<string, string | undefined>;

/** Which transports the process serves. */
export type TransportMode = "stdio" | "http" | "dual";

/** Every transport mode, for validation and help. */
export const TRANSPORT_MODES: readonly TransportMode[] = ["stdio", "http", "dual"];

/** Where job records are kept. */
export type JobStoreKind = "sqlite" | "memory";

/** Every job store kind. */
const JOB_STORES: readonly JobStoreKind[] = ["sqlite", "memory"];

/** The section a setting is listed under in `--help` and docs/configuration.md. */
export type SettingGroup = "network" | "auth" | "fal" | "jobs" | "costs" | "logging";

/** Section titles, in the order `--help` prints them. */
export const SETTING_GROUPS: Readonly<Record<SettingGroup, string>> = {
  network: "Transport and network",
  auth: "Authentication",
  fal: "fal",
  jobs: "Jobs, files and models",
  costs: "Costs",
  logging: "Logging, help, version",
};

/** What the command line gave for one flag (parseArgs' value), if anything. */
export type FlagValue = string | boolean | string[] | undefined;

/** One setting: where it is read from, how it is checked, how it is documented. */
export interface Setting<T = unknown> {
  /** Flag name without dashes (`port` for `--port`); none for environment-only settings. */
  readonly flag?: string;
  /** One-letter alias (`h` for `-h`). */
  readonly short?: string;
  /** Placeholder shown after the flag (`N`, `URL`); none for switches. */
  readonly arg?: string;
  /** Environment variables, most specific first; the first one set wins. */
  readonly env: readonly string[];
  /** parseArgs option type. */
  readonly type: "string" | "boolean";
  /** Whether the flag may be repeated. */
  readonly multiple?: boolean;
  /** Section in `--help` and the docs. */
  readonly group: SettingGroup;
  /** The `--help` description (short). */
  readonly help: string;
  /** The docs description (may use Markdown). */
  readonly doc: string;
  /** The default, in `--help` words (`8000`, `loopback`); none when there is nothing to say. */
  readonly defaultText?: string;
  /** The default as the docs table shows it (Markdown); `defaultText` in backticks otherwise. */
  readonly defaultDoc?: string;
  /** The value when nothing is given (documentation and tests). */
  readonly default?: unknown;
  /** Reads and checks the value from the flag, else the environment, else the default. */
  read(flag: FlagValue, env: Env): T;
}

/** What every setting builder takes. */
interface Common {
  flag?: string;
  short?: string;
  arg?: string;
  env?: readonly string[];
  group: SettingGroup;
  help: string;
  doc: string;
  defaultText?: string;
  defaultDoc?: string;
}

/** The raw text of a setting and where it came from (`--port`, `FAL_MCP_PORT`). */
interface Picked {
  value: string;
  source: string;
}

function pick(flagName: string | undefined, flag: FlagValue, env: Env, names: readonly string[]) {
  if (typeof flag === "string") return { value: flag, source: `--${flagName}` };
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== "") return { value, source: name };
  }
  return undefined;
}

function invalid(picked: Picked, expected: string): ConfigError {
  return new ConfigError(`Invalid ${picked.source} "${picked.value}": ${expected}`);
}

/**
 * A setting with a value (not a switch): `parse` checks the text from the flag or the first
 * variable set, `fallback` answers when none is.
 */
function valued<T>(
  options: Common & { default?: unknown },
  parse: (picked: Picked) => T,
  fallback: (env: Env) => T,
): Setting<T> {
  const names = options.env ?? [];
  return {
    ...options,
    env: names,
    type: "string",
    read(flag, env) {
      const picked = pick(options.flag, flag, env, names);
      return picked ? parse(picked) : fallback(env);
    },
  };
}

/** A free-form string (a path, a host name); `fallback` computes the default from the env. */
function text(
  options: Common & { fallback: (env: Env) => string; check?: (value: string) => string },
): Setting<string>;
function text(
  options: Common & { check?: (value: string) => string },
): Setting<string | undefined>;
function text(
  options: Common & { fallback?: (env: Env) => string; check?: (value: string) => string },
): Setting<string | undefined> {
  return valued(options, (picked) => {
    const problem = options.check?.(picked.value);
    if (problem) throw invalid(picked, problem);
    return picked.value;
  }, (env) => options.fallback?.(env));
}

/** One of a fixed set of words. */
function choice<T extends string>(
  options: Common & { choices: readonly T[]; default: T },
): Setting<T> {
  return valued({ ...options, defaultText: options.default }, (picked) => {
    if ((options.choices as readonly string[]).includes(picked.value)) return picked.value as T;
    throw invalid(picked, `expected one of ${options.choices.join(", ")}`);
  }, () => options.default);
}

/**
 * A whole number from `min` to `max` as written; the value is multiplied by `scale` (1000 turns
 * seconds into the milliseconds {@linkcode Config} keeps).
 */
function integer(
  options: Common & { min: number; max: number; default: number; scale?: number },
): Setting<number> {
  const scale = options.scale ?? 1;
  const { min, max } = options;
  return valued({ ...options, defaultText: options.defaultText ?? String(options.default) }, (
    picked,
  ) => {
    const n = Number(picked.value);
    if (!/^\d+$/.test(picked.value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw invalid(picked, `expected a whole number from ${min} to ${max}`);
    }
    return n * scale;
  }, () => options.default * scale);
}

/** An http or https URL, without a trailing slash. */
function url(options: Common & { fallback: string; default?: string }): Setting<string>;
function url(options: Common): Setting<string | undefined>;
function url(
  options: Common & { fallback?: string; default?: string },
): Setting<string | undefined> {
  return valued(options, (picked) => {
    let parsed: URL;
    try {
      parsed = new URL(picked.value);
    } catch {
      throw invalid(picked, "not a URL");
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw invalid(picked, "expected an http or https URL");
    }
    return parsed.href.replace(/\/+$/, "");
  }, () => options.fallback);
}

/**
 * A `redis://` or `rediss://` URL, kept as given. Its errors never repeat the value (it may hold
 * a password).
 */
function redisUrl(options: Common): Setting<string | undefined> {
  return valued(options, (picked) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(picked.value);
    } catch {
      parsed = undefined;
    }
    if (
      !parsed || (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") || !parsed.hostname
    ) {
      throw new ConfigError(
        `Invalid ${picked.source}: expected redis://[user:password@]host:port[/db] or ` +
          "rediss://… for TLS",
      );
    }
    return picked.value;
  }, () => undefined);
}

/** An existing folder (checked at start-up); unset when not given. */
function folder(options: Common): Setting<string | undefined> {
  return valued(options, (picked) => {
    let info: Deno.FileInfo | undefined;
    try {
      info = Deno.statSync(picked.value);
    } catch {
      // reported below
    }
    if (!info?.isDirectory) {
      throw invalid(
        picked,
        `expected an existing folder, the only one whose files HTTP callers may name ` +
          `(e.g. --${options.flag} /srv/fal-inputs)`,
      );
    }
    return picked.value;
  }, () => undefined);
}

/** A comma-separated list. */
function list(options: Common): Setting<string[] | undefined> {
  return valued(
    options,
    (picked) => picked.value.split(",").map((s) => s.trim()).filter((s) => s.length > 0),
    () => undefined,
  );
}

/** An amount of US dollars (`0.50`), 0 to 1,000,000; unset when not given. */
function usd(options: Common): Setting<number | undefined> {
  return valued(options, (picked) => {
    const n = Number(picked.value);
    if (!/^\d+(\.\d+)?$/.test(picked.value.trim()) || !Number.isFinite(n) || n > 1_000_000) {
      throw invalid(picked, "expected an amount of US dollars such as 0.50 (0 to 1000000)");
    }
    return n;
  }, () => undefined);
}

/** A secret from the environment, at least `minBytes` long; never echoed in an error. */
function secret(options: Common & { minBytes: number }): Setting<string | undefined> {
  return valued(options, (picked) => {
    const value = picked.value.trim();
    if (!value) return undefined;
    if (new TextEncoder().encode(value).length < options.minBytes) {
      throw new ConfigError(
        `Invalid ${picked.source}: it must be at least ${options.minBytes} characters long ` +
          "(generate one with: openssl rand -hex 32)",
      );
    }
    return value;
  }, () => undefined);
}

const TRUE_WORDS = ["1", "true", "yes", "on"];
const FALSE_WORDS = ["0", "false", "no", "off"];

/** A switch: present as a flag, or `true`/`false` (and `1`/`yes`/`on`…) in its variable. */
function toggle(options: Common): Setting<boolean> {
  return {
    ...options,
    env: options.env ?? [],
    type: "boolean",
    default: false,
    defaultDoc: options.defaultDoc ?? "off",
    read(flag, env) {
      if (typeof flag === "boolean") return flag;
      for (const name of options.env ?? []) {
        const value = env[name]?.trim().toLowerCase();
        if (value === undefined || value === "") continue;
        if (TRUE_WORDS.includes(value)) return true;
        if (FALSE_WORDS.includes(value)) return false;
        throw invalid({ value: env[name]!, source: name }, "expected true or false");
      }
      return false;
    },
  };
}

/** A switch that is a command (`--help`, `--version`), not part of the configuration. */
function command(options: Common): Setting<boolean> {
  return { ...options, env: [], type: "boolean", read: (flag) => flag === true };
}

/** The platform's state folder for fal-mcp (XDG on Unix, LOCALAPPDATA on Windows). */
function defaultStateDir(env: Env): string {
  if (env.XDG_STATE_HOME) return `${env.XDG_STATE_HOME}/fal-mcp`;
  if (env.LOCALAPPDATA) return `${env.LOCALAPPDATA}\\fal-mcp`;
  if (env.HOME) return `${env.HOME}/.local/state/fal-mcp`;
  return ".fal-mcp";
}

/** Environment variables `FAL_MCP_MODEL_<TASK>` name a task's model. */
export const MODEL_ENV_PREFIX = "FAL_MCP_MODEL_";

/** `--model TASK=ENDPOINT` flags and `FAL_MCP_MODEL_<TASK>` variables → task → endpoint id. */
function models(options: Common): Setting<Record<string, string>> {
  return {
    ...options,
    env: options.env ?? [],
    type: "string",
    multiple: true,
    read(flag, env) {
      const models: Record<string, string> = {};
      const add = (task: string, endpoint: string, source: string) => {
        if (!TASK_MODEL_KEYS.includes(task)) {
          throw new ConfigError(
            `Invalid ${source}: there is no task "${task}"; the tasks are ${
              TASK_MODEL_KEYS.join(", ")
            }`,
          );
        }
        models[task] = endpoint;
      };
      for (const [name, value] of Object.entries(env)) {
        if (!name.startsWith(MODEL_ENV_PREFIX) || !value) continue;
        add(name.slice(MODEL_ENV_PREFIX.length).toLowerCase(), value.trim(), name);
      }
      for (const entry of Array.isArray(flag) ? flag : []) {
        const match = /^([a-z_]+)=(\S+)$/.exec(entry.trim());
        if (!match) {
          throw new ConfigError(
            `Invalid --model "${entry}": expected TASK=ENDPOINT, e.g. generate_image=fal-ai/flux/dev`,
          );
        }
        add(match[1]!, match[2]!, `--model "${entry}"`);
      }
      return models;
    },
  };
}

/**
 * Every setting, in the order `--help` and the docs list them. Keys are {@linkcode Config} fields,
 * except for the few settings that `parseConfig` combines into one field (`authTokensFile`,
 * `oauth*`) and the commands (`help`, `version`).
 */
export const SETTINGS = {
  transport: choice<TransportMode>({
    flag: "transport",
    arg: "MODE",
    env: ["FAL_MCP_TRANSPORT"],
    group: "network",
    choices: TRANSPORT_MODES,
    default: "stdio",
    help: "stdio | http | dual",
    doc: "`stdio`, `http` (both `/mcp` and `/sse`), or `dual` (stdio and HTTP in one process)",
  }),
  host: text({
    flag: "host",
    arg: "HOST",
    env: ["FAL_MCP_HOST"],
    group: "network",
    fallback: () => "127.0.0.1",
    defaultText: "127.0.0.1",
    check: (value) =>
      value.trim() === "" || /[\s/]/.test(value) ? "expected a hostname or IP address" : "",
    help: "HTTP bind address",
    doc: "HTTP bind address; anything but loopback needs authentication (see below)",
  }),
  port: integer({
    flag: "port",
    arg: "N",
    env: ["FAL_MCP_PORT", "PORT"],
    group: "network",
    min: 0,
    max: 65535,
    default: 8000,
    help: "HTTP port, 0 = any free port",
    doc: "HTTP port, 0–65535 (`0` picks a free one; `PORT` is what Fly.io and Railway inject)",
  }),
  allowedOrigins: list({
    flag: "allowed-origins",
    arg: "LIST",
    env: ["FAL_MCP_ALLOWED_ORIGINS"],
    group: "network",
    defaultText: "loopback",
    defaultDoc: "loopback",
    help: "comma-separated allowed Origin values",
    doc:
      "browser `Origin`s accepted (`https://app.example.com` or bare host names; `*` allows any)",
  }),
  allowedHosts: list({
    flag: "allowed-hosts",
    arg: "LIST",
    env: ["FAL_MCP_ALLOWED_HOSTS"],
    group: "network",
    defaultText: "loopback",
    defaultDoc: "loopback",
    help: "comma-separated allowed Host names",
    doc: "`Host` names accepted (DNS-rebinding protection)",
  }),
  maxSessions: integer({
    flag: "max-sessions",
    arg: "N",
    env: ["FAL_MCP_MAX_SESSIONS"],
    group: "network",
    min: 1,
    max: 1_000_000,
    default: 1000,
    help: "most concurrent HTTP sessions",
    doc: "most live sessions per HTTP transport; beyond it new sessions get 503",
  }),
  sessionTtlMs: integer({
    flag: "session-ttl",
    arg: "SECONDS",
    env: ["FAL_MCP_SESSION_TTL"],
    group: "network",
    min: 1,
    max: 86_400 * 7,
    default: 1800,
    scale: 1000,
    help: "end sessions idle this long",
    doc: "a session with no request and no open stream for this long is ended (at most 7 days)",
  }),
  keepAliveMs: integer({
    flag: "keep-alive",
    arg: "SECONDS",
    env: ["FAL_MCP_KEEP_ALIVE"],
    group: "network",
    min: 1,
    max: 3600,
    default: 15,
    scale: 1000,
    help: "SSE keep-alive comment interval",
    doc: "interval of `: ping` comments on idle SSE streams (1–3600)",
  }),
  publicUrl: url({
    flag: "public-url",
    arg: "URL",
    env: ["FAL_MCP_PUBLIC_URL"],
    group: "network",
    help: "the URL clients use: the OAuth resource; OAuth needs it or --oauth-audience; with " +
      "HTTP, jobs are also submitted with fal's webhook to URL/fal/webhook",
    doc:
      "the URL clients use (`https://fal-mcp.example.com`): the OAuth resource is `<URL>/mcp`; " +
      "OAuth needs it or `--oauth-audience`. With HTTP, jobs are also submitted with fal's " +
      "webhook to `<URL>/fal/webhook`",
  }),
  maxBodyBytes: integer({
    flag: "max-body-bytes",
    arg: "N",
    env: ["FAL_MCP_MAX_BODY_BYTES"],
    group: "network",
    min: 1024,
    max: 1024 * 1024 * 1024,
    default: 4 * 1024 * 1024,
    help: "largest request body",
    doc: "largest request body (413 above; 1 KiB–1 GiB)",
  }),
  rateLimitPerMinute: integer({
    flag: "rate-limit",
    arg: "N",
    env: ["FAL_MCP_RATE_LIMIT"],
    group: "network",
    min: 0,
    max: 1_000_000,
    default: 600,
    help: "requests per minute per client, 0 = off",
    doc: "requests per minute per client on the MCP endpoints (429 with `Retry-After`; `0` = off)",
  }),
  maxStreams: integer({
    flag: "max-streams",
    arg: "N",
    env: ["FAL_MCP_MAX_STREAMS"],
    group: "network",
    min: 1,
    max: 1_000_000,
    default: 2000,
    help: "most concurrent SSE streams",
    doc: "most concurrent SSE streams (503 when full)",
  }),
  maxInFlight: integer({
    flag: "max-in-flight",
    arg: "N",
    env: ["FAL_MCP_MAX_IN_FLIGHT"],
    group: "network",
    min: 1,
    max: 1_000_000,
    default: 1000,
    help: "most MCP requests at once, streams included",
    doc: "most MCP requests served at once, long tool calls and open streams included (503 with " +
      "`Retry-After` when full; also 503 when open connections near the process's " +
      "file-descriptor limit)",
  }),
  maxSessionsPerClient: integer({
    flag: "max-sessions-per-client",
    arg: "N",
    env: ["FAL_MCP_MAX_SESSIONS_PER_CLIENT"],
    group: "network",
    min: 1,
    max: 1_000_000,
    default: 100,
    help: "most sessions one client holds",
    doc:
      "most live sessions (Streamable HTTP and legacy SSE each) one client may hold; beyond it " +
      "that client's new sessions get 503",
  }),
  readTimeoutMs: integer({
    flag: "read-timeout",
    arg: "SECONDS",
    env: ["FAL_MCP_READ_TIMEOUT"],
    group: "network",
    min: 1,
    max: 3600,
    default: 30,
    scale: 1000,
    help: "time a request body may take",
    doc: "how long a request body may take to arrive (408 after; 1–3600)",
  }),
  shutdownTimeoutMs: integer({
    flag: "shutdown-timeout",
    arg: "S",
    env: ["FAL_MCP_SHUTDOWN_TIMEOUT"],
    group: "network",
    min: 0,
    max: 3600,
    default: 25,
    scale: 1000,
    help: "grace for in-flight calls on SIGTERM",
    doc: "on SIGTERM/SIGINT, how long in-flight tool calls may finish (0–3600); keep the " +
      "platform's kill timeout above it",
  }),
  authTokens: list({
    env: ["FAL_MCP_AUTH_TOKENS"],
    group: "auth",
    help: "comma-separated bearer tokens",
    doc: "comma-separated bearer tokens (16+ characters each; `openssl rand -hex 32`)",
  }),
  authTokensFile: text({
    flag: "auth-tokens-file",
    arg: "PATH",
    group: "auth",
    help: "bearer tokens, one per line",
    doc: "more bearer tokens, one per line, `#` comments; adds to `FAL_MCP_AUTH_TOKENS`",
  }),
  oauthIssuer: url({
    flag: "oauth-issuer",
    arg: "URL",
    env: ["FAL_MCP_OAUTH_ISSUER"],
    group: "auth",
    help: "verify OAuth 2.1 JWT access tokens from this issuer",
    doc: "verify OAuth 2.1 JWT access tokens from this issuer",
  }),
  oauthAudience: text({
    flag: "oauth-audience",
    arg: "AUD",
    env: ["FAL_MCP_OAUTH_AUDIENCE"],
    group: "auth",
    defaultText: "<public-url>/mcp",
    help: "required token audience",
    doc: "the audience tokens must carry; without `--public-url` it must be an http(s) URL and " +
      "also names the resource",
  }),
  oauthScopes: list({
    flag: "oauth-scopes",
    arg: "LIST",
    env: ["FAL_MCP_OAUTH_SCOPES"],
    group: "auth",
    help: "comma-separated scopes every token needs",
    doc: "scopes every token needs (missing scope: 403 `insufficient_scope`)",
  }),
  oauthJwksUrl: url({
    flag: "oauth-jwks-url",
    arg: "URL",
    env: ["FAL_MCP_OAUTH_JWKS_URL"],
    group: "auth",
    defaultText: "from the issuer's metadata",
    defaultDoc: "discovered",
    help: "signing keys",
    doc: "signing keys; by default from the issuer's metadata",
  }),
  byok: toggle({
    flag: "byok",
    env: ["FAL_MCP_BYOK"],
    group: "auth",
    help: "each HTTP client sends its own fal key, in X-Fal-Key, Authorization: Key …, or " +
      "Authorization: Bearer … when no tokens or OAuth are set",
    doc:
      "every HTTP client sends its own fal key (`X-Fal-Key: <key>`, `Authorization: Key <key>`, " +
      "or `Authorization: Bearer <key>` when no tokens or OAuth are set)",
  }),
  allowUnauthenticated: toggle({
    flag: "allow-unauthenticated",
    env: ["FAL_MCP_ALLOW_UNAUTHENTICATED"],
    group: "auth",
    help: "serve a non-loopback address without auth",
    doc: "serve a non-loopback address with no authentication (your explicit choice)",
  }),
  allowLocalFiles: folder({
    flag: "allow-local-files",
    arg: "DIR",
    env: ["FAL_MCP_ALLOW_LOCAL_FILES"],
    group: "auth",
    help: "let HTTP callers upload files inside DIR by path (symlinks resolved)",
    doc: "the one folder whose files HTTP callers may name (`upload_file`, local-path media " +
      "inputs), symlinks resolved; stdio callers always may",
  }),
  falKey: text({
    env: ["FAL_KEY"],
    group: "fal",
    help: "your fal.ai API key (https://fal.ai/dashboard/keys)",
    doc: "your fal.ai API key ([dashboard](https://fal.ai/dashboard/keys)); never logged",
  }),
  falBaseUrl: url({
    flag: "fal-base-url",
    arg: "URL",
    env: ["FAL_BASE_URL"],
    group: "fal",
    defaultText: "the real fal hosts",
    defaultDoc: "real fal",
    help: "send every fal call to one origin: URL/queue, URL/run, URL/rest, URL/api",
    doc: "one origin for every fal API: `URL/queue`, `URL/run`, `URL/rest`, `URL/api` (the " +
      "tests and `deno task demo` point it at the local fake)",
  }),
  falWebhookJwksUrl: url({
    flag: "fal-webhook-jwks-url",
    arg: "URL",
    env: ["FAL_MCP_FAL_WEBHOOK_JWKS_URL"],
    group: "fal",
    fallback: FAL_WEBHOOK_JWKS_URL,
    default: FAL_WEBHOOK_JWKS_URL,
    defaultText: "fal's JWKS",
    defaultDoc: "fal's JWKS",
    help: "fal's webhook signing keys",
    doc:
      `where fal publishes the keys its webhooks are signed with (by default \`${FAL_WEBHOOK_JWKS_URL}\`)`,
  }),
  stateDir: text({
    flag: "state-dir",
    arg: "DIR",
    env: ["FAL_MCP_STATE_DIR"],
    group: "jobs",
    fallback: defaultStateDir,
    defaultText: "$XDG_STATE_HOME/fal-mcp or ~/.local/state/fal-mcp",
    defaultDoc: "see below",
    help: "where the job database lives",
    doc: "where the job database (`jobs.sqlite3`) lives",
  }),
  jobStore: choice<JobStoreKind>({
    flag: "job-store",
    arg: "KIND",
    env: ["FAL_MCP_JOB_STORE"],
    group: "jobs",
    choices: JOB_STORES,
    default: "sqlite",
    help: "sqlite | memory",
    doc: "`sqlite` (survives restarts) or `memory` (forgotten when the process ends)",
  }),
  redisUrl: redisUrl({
    flag: "redis-url",
    arg: "URL",
    env: ["FAL_MCP_REDIS_URL"],
    group: "jobs",
    help: "share jobs with other instances in this Redis (redis:// or rediss://)",
    doc:
      "a Redis shared by every instance of a cluster (`redis://[user:password@]host:port[/db]`, " +
      "`rediss://` for TLS): jobs live there and are followed under leases (see " +
      "[deployment](deployment.md#many-instances-on-redis)); never logged",
  }),
  outputDir: text({
    flag: "output-dir",
    arg: "DIR",
    env: ["FAL_MCP_OUTPUT_DIR"],
    group: "jobs",
    help: "also save every generated file here (HTTP callers may use save_to only when set)",
    doc: "also save every generated file here; a call's `save_to` is a folder inside it. HTTP " +
      "callers may use `save_to` only when this is set",
  }),
  inlineMaxBytes: integer({
    flag: "inline-max-bytes",
    arg: "N",
    env: ["FAL_MCP_INLINE_MAX_BYTES"],
    group: "jobs",
    min: 0,
    max: 50 * 1024 * 1024,
    default: 262_144,
    help: "inline image previews, N bytes per result, 0 = none",
    doc: "inline image previews per result, at most N bytes in all (`0` = none; at most 50 MiB)",
  }),
  maxDownloadBytes: integer({
    flag: "max-download-bytes",
    arg: "N",
    env: ["FAL_MCP_MAX_DOWNLOAD_BYTES"],
    group: "jobs",
    min: 1024,
    max: Number.MAX_SAFE_INTEGER,
    default: 512 * 1024 * 1024,
    help: "largest file downloaded (saved results, previews)",
    doc: "largest file the server downloads (saved results, previews); a download above it " +
      "fails clearly and leaves no file",
  }),
  maxResultBytes: integer({
    flag: "max-result-bytes",
    arg: "N",
    env: ["FAL_MCP_MAX_RESULT_BYTES"],
    group: "jobs",
    min: 1024,
    max: 1024 * 1024 * 1024,
    default: 16 * 1024 * 1024,
    help: "largest job result kept whole",
    doc: "largest job result kept whole (1 KiB–1 GiB); above it the record keeps the media " +
      "URLs and says the rest was cut",
  }),
  syncWaitMs: integer({
    flag: "sync-wait",
    arg: "SECONDS",
    env: ["FAL_MCP_SYNC_WAIT"],
    group: "jobs",
    min: 0,
    max: 3600,
    default: 50,
    scale: 1000,
    help: "slow tools answer with a job id after this",
    doc: "slow task tools (video, music) answer with a `job_id` after waiting this long (0–3600)",
  }),
  models: models({
    flag: "model",
    arg: "TASK=ENDPOINT",
    env: ["FAL_MCP_MODEL_<TASK>"],
    group: "jobs",
    defaultText: "built-in",
    defaultDoc: "built-in",
    help:
      "default model of a task tool, repeatable, e.g. --model generate_image=fal-ai/flux/schnell",
    doc: "default model of a task tool, repeatable: `--model generate_image=fal-ai/flux/schnell`",
  }),
  confirmAboveUsd: usd({
    flag: "confirm-above-usd",
    arg: "X",
    env: ["FAL_MCP_CONFIRM_ABOVE_USD"],
    group: "costs",
    defaultText: "off",
    defaultDoc: "off",
    help: "ask the user before a run estimated above X US dollars",
    doc: "before a run whose estimate is above X US dollars, ask the user (elicitation or a " +
      "confirm token)",
  }),
  budgetUsdPerDay: usd({
    flag: "budget-usd-per-day",
    arg: "X",
    env: ["FAL_MCP_BUDGET_USD_PER_DAY"],
    group: "costs",
    defaultText: "off",
    defaultDoc: "off",
    help: "refuse runs past X US dollars per caller per UTC day",
    doc: "refuse runs that would take a caller past X US dollars of estimated spend in one UTC day",
  }),
  stateSecret: secret({
    env: ["FAL_MCP_STATE_SECRET"],
    group: "costs",
    minBytes: 32,
    defaultText: "random per process",
    defaultDoc: "random",
    help: "secret (32+ characters) signing cost confirmations; set the same value on every " +
      "instance behind one URL",
    doc: "secret (32+ characters) signing confirmations; the same value on every instance behind " +
      "one URL",
  }),
  logLevel: choice<LogLevel>({
    flag: "log-level",
    arg: "LEVEL",
    env: ["FAL_MCP_LOG_LEVEL"],
    group: "logging",
    choices: LOG_LEVELS,
    default: "info",
    help: "debug | info | warn | error",
    doc: "`debug`, `info`, `warn`, `error`; lines go to stderr",
  }),
  logFormat: choice<LogFormatChoice>({
    flag: "log-format",
    arg: "FORMAT",
    env: ["FAL_MCP_LOG_FORMAT"],
    group: "logging",
    choices: LOG_FORMATS,
    default: "auto",
    help: "auto | pretty | json; auto is pretty on a terminal, JSON otherwise",
    doc: "`pretty` (one readable line per event), `json` (one JSON object per line, for log " +
      "collectors) or `auto`: pretty when stderr is a terminal, JSON otherwise",
  }),
  help: command({
    flag: "help",
    short: "h",
    group: "logging",
    help: "print this help and exit",
    doc: "print every flag and variable, exit 0",
  }),
  version: command({
    flag: "version",
    short: "V",
    group: "logging",
    help: "print the version and exit",
    doc: "print `fal-mcp <version>`, exit 0",
  }),
} as const satisfies Record<string, Setting>;

/** The name of each setting in {@linkcode SETTINGS}. */
export type SettingName = keyof typeof SETTINGS;

/** The value each setting reads to. */
export type SettingValues = {
  [K in SettingName]: ReturnType<(typeof SETTINGS)[K]["read"]>;
};

/** Every setting as a list, in table order. */
export function settingList(): [SettingName, Setting][] {
  return Object.entries(SETTINGS) as [SettingName, Setting][];
}
