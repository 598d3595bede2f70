/**
 * OAuth 2.1 resource-server mode for the HTTP transports: verifies `Authorization: Bearer` JWT
 * access tokens issued by an external authorization server, and describes this server with an
 * RFC 9728 Protected Resource Metadata document so MCP clients can find where to log in.
 *
 * Missing credentials answer 401 with a bare `WWW-Authenticate: Bearer` challenge (RFC 6750
 * §3.1); a token that fails any check answers 401 `invalid_token`; a valid token that lacks a
 * required scope answers 403 `insufficient_scope`. Every challenge carries `resource_metadata`.
 * Signatures are checked with `jose` against the issuer's JWKS (discovered through RFC 8414 /
 * OpenID Connect metadata unless configured), asymmetric algorithms only.
 *
 * @example
 * ```ts
 * import { OAuthVerifier } from "./oauth.ts";
 *
 * const verifier = new OAuthVerifier({ issuer: "https://auth.example.com", scopes: ["mcp"] });
 * const handler = async (request: Request): Promise<Response> => {
 *   const auth = await verifier.verify(request, "https://mcp.example.com/mcp");
 *   if (!auth.ok) return auth.response;
 *   return new Response(`hello ${auth.subject}`);
 * };
 * ```
 *
 * @module
 */

import {
  createRemoteJWKSet,
  customFetch,
  errors,
  type FlattenedJWSInput,
  type JWSHeaderParameters,
  type JWTPayload,
  jwtVerify,
  type RemoteJWKSet,
} from "jose";
import type { Logger } from "../log.ts";
import { jsonRpcErrorResponse } from "../protocol/jsonrpc_error.ts";
import { errorMessage } from "../errors.ts";

/** JSON-RPC error code carried by every authentication or authorization failure. */
const AUTH_ERROR_CODE = -32001;

/** The realm named in every `WWW-Authenticate` challenge. */
const REALM = "fal-mcp";

/** Asymmetric JWS algorithms accepted for access tokens; `none` and HMAC are never accepted. */
const ALLOWED_ALGORITHMS: readonly string[] = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
];

/** Tokens longer than this are refused before any parsing. */
const MAX_TOKEN_LENGTH = 16_384;

/** Default leeway for `exp`, `nbf` and `iat`, in seconds. */
const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;

/** After a failed discovery, requests reuse the failure this long before discovery is retried. */
const DISCOVERY_RETRY_MS = 10_000;

/** Time limit for one authorization-server metadata request. */
const DISCOVERY_TIMEOUT_MS = 5_000;

const PROTECTED_RESOURCE_WELL_KNOWN = "/.well-known/oauth-protected-resource";

/** Options for {@linkcode OAuthVerifier}. */
export interface OAuthOptions {
  /** The authorization server's issuer identifier; tokens' `iss` must equal it. */
  issuer: string;
  /**
   * The `aud` value tokens must carry. When unset, the resource URL passed to
   * {@linkcode OAuthVerifier.verify} is expected (with or without its path and trailing slash).
   */
  audience?: string | undefined;
  /** Scopes every token must hold (all of them). Empty means any valid token is enough. */
  scopes: string[];
  /** The issuer's JWKS URL. When unset it is discovered from the issuer's metadata. */
  jwksUrl?: string | undefined;
  /** `fetch` used for discovery and JWKS requests (tests, proxies). Defaults to the global one. */
  fetch?: typeof fetch;
  /** Leeway for `exp`, `nbf` and `iat` checks, in seconds (default 30). */
  clockToleranceSeconds?: number;
  /**
   * How long after one JWKS fetch a token with an unknown key id may trigger another, in
   * milliseconds (default 30000). Key rotation is picked up on the first unknown `kid` after it.
   */
  jwksCooldownMs?: number;
  /** Where discovery failures are reported (no token ever reaches a log line). */
  logger?: Logger;
}

/** A request that carried a valid token with every required scope. */
export interface OAuthSuccess {
  /** Discriminant. */
  ok: true;
  /** The token's `iss` claim (verified against the configured issuer), without a trailing slash. */
  issuer: string;
  /** The token's `sub` claim. */
  subject: string;
  /** The OAuth client the token was issued to (`client_id`, else `azp`), when stated. */
  clientId: string | undefined;
  /** Every scope the token holds (from `scope` and/or `scp`). */
  scopes: string[];
  /** The token's `exp` claim in seconds since the epoch, when present. */
  expiresAt: number | undefined;
  /** The raw access token, for handing on as the request's auth info. Never log it. */
  token: string;
}

/** A request that must be refused with `response` (401 or 403, challenge header set). */
export interface OAuthFailure {
  /** Discriminant. */
  ok: false;
  /** The refusal to send back as is. */
  response: Response;
}

/** The outcome of {@linkcode OAuthVerifier.verify}. */
export type OAuthResult = OAuthSuccess | OAuthFailure;

/** The issuer's keys could not be discovered, fetched or used. */
class KeysUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KeysUnavailableError";
  }
}

/** Verifies bearer JWT access tokens for one protected resource. */
export class OAuthVerifier {
  readonly #issuer: string;
  readonly #issuers: string[];
  readonly #audience: string | undefined;
  readonly #scopes: string[];
  readonly #jwksUrl: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #clockTolerance: number;
  readonly #jwksCooldownMs: number | undefined;
  readonly #logger: Logger | undefined;
  #keySet: Promise<RemoteJWKSet> | undefined;
  #lastFailure: { at: number; error: KeysUnavailableError } | undefined;

  /** Creates a verifier; nothing is fetched until the first token arrives. */
  constructor(options: OAuthOptions) {
    if (!URL.canParse(options.issuer)) {
      throw new TypeError(`OAuth issuer is not a valid URL: ${options.issuer}`);
    }
    if (options.jwksUrl !== undefined && !isHttpUrl(options.jwksUrl)) {
      throw new TypeError(`OAuth JWKS URL is not a valid http(s) URL: ${options.jwksUrl}`);
    }
    const tolerance = options.clockToleranceSeconds;
    if (tolerance !== undefined && !(Number.isFinite(tolerance) && tolerance >= 0)) {
      throw new RangeError(`OAuth clock tolerance must be a non-negative number: ${tolerance}`);
    }
    const cooldown = options.jwksCooldownMs;
    if (cooldown !== undefined && !(Number.isFinite(cooldown) && cooldown >= 0)) {
      throw new RangeError(`OAuth JWKS cooldown must be a non-negative number: ${cooldown}`);
    }
    this.#issuer = options.issuer;
    this.#issuers = slashVariants(options.issuer);
    this.#audience = options.audience;
    this.#scopes = options.scopes.filter((scope) => scope.length > 0);
    this.#jwksUrl = options.jwksUrl;
    this.#fetch = options.fetch ?? fetch;
    this.#clockTolerance = tolerance ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
    this.#jwksCooldownMs = cooldown;
    this.#logger = options.logger;
  }

  /**
   * Checks the request's bearer token for the resource at `resourceUrl` (the public `/mcp` URL).
   * Nothing a client or the authorization server does makes it throw: every failure, including
   * an unreachable authorization server, becomes a 401 or 403 response carrying a
   * `WWW-Authenticate` challenge. Throws `TypeError` only if `resourceUrl` is not an absolute URL.
   */
  async verify(request: Request, resourceUrl: string): Promise<OAuthResult> {
    const metadataUrl = metadataUrlFor(resourceUrl);
    const header = request.headers.get("authorization");
    const match = header === null ? null : /^bearer(?:[ \t]+(.*))?$/i.exec(header.trim());
    if (match === null) {
      // No credentials, or another scheme: a bare challenge (RFC 6750 §3.1).
      return this.#refuse(
        401,
        metadataUrl,
        undefined,
        "Authorization required: send a bearer token",
      );
    }
    const token = (match[1] ?? "").trim();
    if (token.length === 0) {
      return this.#invalid(metadataUrl, "the Authorization header carries an empty bearer token");
    }
    if (token.length > MAX_TOKEN_LENGTH) {
      return this.#invalid(metadataUrl, "the bearer token is too long");
    }

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#resolveKey, {
        algorithms: [...ALLOWED_ALGORITHMS],
        issuer: this.#issuers,
        audience: this.#audience ?? audienceVariants(resourceUrl),
        clockTolerance: this.#clockTolerance,
        requiredClaims: ["sub"],
      }));
    } catch (error) {
      return this.#invalid(metadataUrl, describeFailure(error));
    }

    const subject = payload.sub;
    if (typeof subject !== "string" || subject.length === 0) {
      return this.#invalid(metadataUrl, "the token's sub claim is not a non-empty string");
    }
    const scopes = tokenScopes(payload);
    const missing = this.#scopes.filter((scope) => !scopes.includes(scope));
    if (missing.length > 0) {
      return this.#refuse(
        403,
        metadataUrl,
        {
          error: "insufficient_scope",
          description: `the token lacks the required scope(s): ${missing.join(" ")}`,
        },
        `Forbidden: the token lacks the required scope(s): ${missing.join(" ")}`,
      );
    }
    return {
      ok: true,
      issuer: typeof payload.iss === "string" ? payload.iss.replace(/\/+$/, "") : "",
      subject,
      clientId: stringClaim(payload, "client_id") ?? stringClaim(payload, "azp"),
      scopes,
      expiresAt: typeof payload.exp === "number" ? payload.exp : undefined,
      token,
    };
  }

  /** Key resolver handed to `jwtVerify`: loads the JWKS lazily, classifies fetch failures. */
  readonly #resolveKey = async (
    header: JWSHeaderParameters,
    token: FlattenedJWSInput,
  ): Promise<CryptoKey> => {
    const keySet = await this.#loadKeySet();
    try {
      return await keySet(header, token);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported
      ) {
        throw error;
      }
      this.#logger?.warn("oauth: cannot fetch the issuer's JWKS", {
        issuer: this.#issuer,
        reason: errorMessage(error),
      });
      throw new KeysUnavailableError("the issuer's signing keys could not be fetched", {
        cause: error,
      });
    }
  };

  /** The issuer's remote key set, discovered once and cached; failures retried after a pause. */
  #loadKeySet(): Promise<RemoteJWKSet> {
    if (this.#keySet !== undefined) return this.#keySet;
    const failure = this.#lastFailure;
    if (failure !== undefined && Date.now() - failure.at < DISCOVERY_RETRY_MS) {
      return Promise.reject(failure.error);
    }
    const pending = this.#discoverJwksUrl().then(
      (url) =>
        createRemoteJWKSet(new URL(url), {
          [customFetch]: (input, init) => this.#fetch(input, init),
          ...(this.#jwksCooldownMs === undefined ? {} : { cooldownDuration: this.#jwksCooldownMs }),
        }),
      (error: unknown) => {
        const wrapped = error instanceof KeysUnavailableError ? error : new KeysUnavailableError(
          "the issuer's signing keys could not be fetched",
          { cause: error },
        );
        if (this.#keySet === pending) this.#keySet = undefined;
        this.#lastFailure = { at: Date.now(), error: wrapped };
        throw wrapped;
      },
    );
    this.#keySet = pending;
    return pending;
  }

  /** The configured JWKS URL, else `jwks_uri` from the issuer's metadata. */
  async #discoverJwksUrl(): Promise<string> {
    if (this.#jwksUrl !== undefined) return this.#jwksUrl;
    const reasons: string[] = [];
    for (const candidate of discoveryUrls(this.#issuer)) {
      try {
        return await this.#readJwksUri(candidate);
      } catch (error) {
        reasons.push(`${candidate}: ${errorMessage(error)}`);
      }
    }
    this.#logger?.warn("oauth: cannot discover the issuer's JWKS", {
      issuer: this.#issuer,
      reasons,
    });
    throw new KeysUnavailableError(
      "the issuer's signing keys could not be fetched (authorization server metadata unavailable)",
    );
  }

  /** Fetches one metadata document and returns its `jwks_uri` after checking its `issuer`. */
  async #readJwksUri(url: string): Promise<string> {
    const response = await this.#fetch(url, {
      headers: { accept: "application/json" },
      redirect: "manual",
      signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`answered HTTP ${response.status}`);
    }
    const document: unknown = await response.json().catch(() => undefined);
    if (typeof document !== "object" || document === null || Array.isArray(document)) {
      throw new Error("answered a body that is not a JSON object");
    }
    const record = document as Record<string, unknown>;
    if (typeof record.issuer !== "string" || !this.#issuers.includes(record.issuer)) {
      throw new Error("metadata names a different issuer");
    }
    const jwksUri = record.jwks_uri;
    if (typeof jwksUri !== "string" || !isHttpUrl(jwksUri)) {
      throw new Error("metadata has no valid jwks_uri");
    }
    if (new URL(this.#issuer).protocol === "https:" && new URL(jwksUri).protocol !== "https:") {
      throw new Error("metadata's jwks_uri is not https");
    }
    return jwksUri;
  }

  /** A 401 `invalid_token` refusal. */
  #invalid(metadataUrl: string, description: string): OAuthFailure {
    return this.#refuse(
      401,
      metadataUrl,
      { error: "invalid_token", description },
      `Unauthorized: ${description}`,
    );
  }

  /** A refusal with a `WWW-Authenticate: Bearer` challenge and a JSON-RPC error body. */
  #refuse(
    status: 401 | 403,
    metadataUrl: string,
    problem: { error: string; description: string } | undefined,
    message: string,
  ): OAuthFailure {
    const params: [string, string][] = [["realm", REALM]];
    if (problem !== undefined) {
      params.push(["error", problem.error], ["error_description", problem.description]);
    }
    if (this.#scopes.length > 0) params.push(["scope", this.#scopes.join(" ")]);
    params.push(["resource_metadata", metadataUrl]);
    const challenge = "Bearer " +
      params.map(([name, value]) => `${name}="${quote(value)}"`).join(", ");
    return {
      ok: false,
      response: jsonRpcErrorResponse(status, AUTH_ERROR_CODE, message, {
        "www-authenticate": challenge,
        "cache-control": "no-store",
      }),
    };
  }
}

/**
 * The RFC 9728 Protected Resource Metadata document for the resource at `resourceUrl`.
 * `scopes_supported` is left out when no scope is required.
 */
export function protectedResourceMetadata(
  resourceUrl: string,
  options: { issuer: string; scopes: string[] },
): Record<string, unknown> {
  const scopes = options.scopes.filter((scope) => scope.length > 0);
  return {
    resource: resourceUrl,
    authorization_servers: [options.issuer],
    ...(scopes.length > 0 ? { scopes_supported: scopes } : {}),
    bearer_methods_supported: ["header"],
    resource_name: "fal-mcp",
  };
}

/**
 * The paths the metadata document is served at: the bare well-known path and its RFC 9728 path
 * insertion for the `/mcp` resource.
 */
export function protectedResourceMetadataPaths(): string[] {
  return [PROTECTED_RESOURCE_WELL_KNOWN, `${PROTECTED_RESOURCE_WELL_KNOWN}/mcp`];
}

/**
 * The metadata URL for a resource, by RFC 9728 path insertion:
 * `https://h/mcp` → `https://h/.well-known/oauth-protected-resource/mcp`.
 */
export function metadataUrlFor(resourceUrl: string): string {
  const url = new URL(resourceUrl);
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = `${PROTECTED_RESOURCE_WELL_KNOWN}${path}`;
  url.hash = "";
  return url.href;
}

/** The metadata URLs to try for an issuer: RFC 8414 and OIDC, path-inserted then appended. */
function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const origin = url.origin;
  const path = url.pathname.replace(/\/+$/, "");
  const candidates = [
    `${origin}/.well-known/oauth-authorization-server${path}`,
    `${origin}/.well-known/openid-configuration${path}`,
    `${origin}${path}/.well-known/openid-configuration`,
    `${origin}${path}/.well-known/oauth-authorization-server`,
  ];
  return [...new Set(candidates)];
}

/** `value` with and without a trailing slash. */
function slashVariants(value: string): string[] {
  const bare = value.replace(/\/+$/, "");
  return [...new Set([value, bare, `${bare}/`])];
}

/** Audiences that name the resource: its URL and its origin, each with or without a slash. */
function audienceVariants(resourceUrl: string): string[] {
  const variants = slashVariants(resourceUrl);
  if (URL.canParse(resourceUrl)) {
    const url = new URL(resourceUrl);
    url.hash = "";
    variants.push(...slashVariants(url.href), ...slashVariants(url.origin));
  }
  return [...new Set(variants)];
}

/** Scopes from `scope` (space-separated) and `scp` (array, or string as some issuers send). */
function tokenScopes(payload: JWTPayload): string[] {
  const found = new Set<string>();
  for (const claim of [payload.scope, payload.scp]) {
    const values = typeof claim === "string"
      ? claim.split(/\s+/)
      : Array.isArray(claim)
      ? claim.filter((value): value is string => typeof value === "string")
      : [];
    for (const value of values) if (value.length > 0) found.add(value);
  }
  return [...found];
}

function stringClaim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const protocol = new URL(value).protocol;
  return protocol === "https:" || protocol === "http:";
}

/** Escapes a value for a quoted-string in a `WWW-Authenticate` parameter. */
function quote(value: string): string {
  return value.replace(/[\\"]/g, (char) => `\\${char}`).replace(/[\r\n]/g, " ");
}

/** Which check a token failed, in words safe to send back (nothing from the token itself). */
function describeFailure(error: unknown): string {
  if (error instanceof KeysUnavailableError) return error.message;
  if (error instanceof errors.JWTExpired) return "the token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    const missing = error.reason === "missing";
    switch (error.claim) {
      case "iss":
        return missing ? "the token has no iss claim" : "the token's issuer is not trusted";
      case "aud":
        return missing
          ? "the token has no aud claim"
          : "the token's audience does not match this resource";
      case "nbf":
        return "the token is not valid yet (nbf)";
      case "iat":
        return "the token's iat claim is invalid";
      case "sub":
        return "the token has no sub claim";
      default:
        return `the token's ${error.claim} claim is invalid`;
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return "the token's signing algorithm is not allowed (asymmetric algorithms only)";
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return "no signing key of the issuer matches the token";
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return "several signing keys of the issuer match the token; a key id (kid) is required";
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return "the token's signature is invalid";
  }
  if (error instanceof errors.JOSENotSupported) {
    return "the token uses an unsupported algorithm or key type";
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return "the token is not a well-formed JWT";
  }
  return "the token could not be verified";
}
