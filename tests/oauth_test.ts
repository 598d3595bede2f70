import assert from "node:assert/strict";
import * as jose from "jose";
import {
  type FakeAuthServer,
  makeKey,
  type SigningKey,
  startAuthServer,
} from "./helpers/fake_issuer.ts";
import {
  metadataUrlFor,
  type OAuthOptions,
  type OAuthResult,
  OAuthVerifier,
  protectedResourceMetadata,
  protectedResourceMetadataPaths,
} from "../src/http/oauth.ts";

const RESOURCE = "http://127.0.0.1:8000/mcp";
const RESOURCE_METADATA = "http://127.0.0.1:8000/.well-known/oauth-protected-resource/mcp";

/** A signing key with its public JWK (carrying `kid`). */
interface Fixture {
  as: FakeAuthServer;
  key: SigningKey;
  verifier(options?: Partial<OAuthOptions>): OAuthVerifier;
  sign(claims?: jose.JWTPayload, options?: SignOptions): Promise<string>;
}

interface SignOptions {
  key?: SigningKey;
  expiresAt?: number | string;
}

async function withAuthServer(fn: (fixture: Fixture) => Promise<void>): Promise<void> {
  const as = startAuthServer();
  try {
    const key = await makeKey("key-1");
    as.keys.push(key.jwk);
    await fn({
      as,
      key,
      verifier: (options = {}) => new OAuthVerifier({ issuer: as.url, scopes: [], ...options }),
      sign: (claims = {}, options = {}) => {
        const signer = options.key ?? key;
        const payload: jose.JWTPayload = {
          iss: as.url,
          aud: RESOURCE,
          sub: "user-1",
          scope: "mcp",
          client_id: "client-1",
          ...claims,
        };
        return new jose.SignJWT(payload)
          .setProtectedHeader({ alg: "RS256", kid: signer.kid, typ: "at+jwt" })
          .setIssuedAt()
          .setExpirationTime(options.expiresAt ?? "5m")
          .sign(signer.privateKey);
      },
    });
  } finally {
    await as.close();
  }
}

function bearer(token: string, scheme = "Bearer"): Request {
  return new Request(RESOURCE, {
    method: "POST",
    headers: { authorization: `${scheme} ${token}` },
  });
}

interface Refusal {
  status: number;
  challenge: string;
  params: Map<string, string>;
  message: string;
  code: number;
}

/** Asserts a refusal and parses its `WWW-Authenticate` challenge and JSON-RPC body. */
async function refusal(result: OAuthResult): Promise<Refusal> {
  assert.equal(result.ok, false, "expected the request to be refused");
  if (result.ok) throw new Error("unreachable");
  const { response } = result;
  const challenge = response.headers.get("www-authenticate") ?? "";
  assert.match(challenge, /^Bearer /);
  const params = new Map<string, string>();
  for (const match of challenge.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) {
    params.set(match[1] ?? "", (match[2] ?? "").replace(/\\(.)/g, "$1"));
  }
  assert.equal(response.headers.get("content-type"), "application/json");
  const body = await response.json();
  assert.equal(body.jsonrpc, "2.0");
  assert.equal(body.id, null);
  return {
    status: response.status,
    challenge,
    params,
    message: body.error.message,
    code: body.error.code,
  };
}

async function assertInvalidToken(result: OAuthResult, description: RegExp): Promise<Refusal> {
  const r = await refusal(result);
  assert.equal(r.status, 401);
  assert.equal(r.code, -32001);
  assert.equal(r.params.get("error"), "invalid_token");
  assert.equal(r.params.get("resource_metadata"), RESOURCE_METADATA);
  assert.match(r.params.get("error_description") ?? "", description);
  assert.match(r.message, description);
  return r;
}

function ok(result: OAuthResult): Extract<OAuthResult, { ok: true }> {
  if (!result.ok) throw new Error(`expected success, got HTTP ${result.response.status}`);
  return result;
}

Deno.test("a valid token with the required scopes is accepted with its subject, scopes and client", async () => {
  await withAuthServer(async ({ verifier, sign }) => {
    const token = await sign({ scope: "mcp extra" });
    const result = ok(await verifier({ scopes: ["mcp"] }).verify(bearer(token), RESOURCE));
    assert.equal(result.subject, "user-1");
    assert.deepEqual(result.scopes, ["mcp", "extra"]);
    assert.equal(result.clientId, "client-1");
    assert.equal(typeof result.expiresAt, "number");
    assert.equal(result.token, token);
  });
});

Deno.test("the Bearer scheme is matched case-insensitively", async () => {
  await withAuthServer(async ({ verifier, sign }) => {
    const token = await sign();
    ok(await verifier().verify(bearer(token, "bearer"), RESOURCE));
    ok(await verifier().verify(bearer(token, "BEARER"), RESOURCE));
  });
});

Deno.test("scopes are read from an scp array and the client from azp", async () => {
  await withAuthServer(async ({ verifier, sign }) => {
    const token = await sign({ scope: undefined, client_id: undefined, scp: ["a", "b"], azp: "c" });
    const result = ok(await verifier({ scopes: ["a", "b"] }).verify(bearer(token), RESOURCE));
    assert.deepEqual(result.scopes, ["a", "b"]);
    assert.equal(result.clientId, "c");
  });
});

Deno.test("a request without Authorization answers 401 with resource_metadata and no error", async () => {
  await withAuthServer(async ({ verifier }) => {
    const request = new Request(RESOURCE, { method: "POST" });
    const r = await refusal(await verifier({ scopes: ["mcp"] }).verify(request, RESOURCE));
    assert.equal(r.status, 401);
    assert.equal(r.code, -32001);
    assert.equal(r.params.get("realm"), "fal-mcp");
    assert.equal(r.params.get("resource_metadata"), RESOURCE_METADATA);
    assert.equal(r.params.get("scope"), "mcp");
    assert.equal(r.params.has("error"), false);
    assert.equal(r.params.has("error_description"), false);
  });
});

Deno.test("a request with another authentication scheme gets a bare challenge", async () => {
  await withAuthServer(async ({ verifier }) => {
    const r = await refusal(await verifier().verify(bearer("dXNlcjpwYXNz", "Basic"), RESOURCE));
    assert.equal(r.status, 401);
    assert.equal(r.params.has("error"), false);
    assert.equal(r.params.get("resource_metadata"), RESOURCE_METADATA);
  });
});

Deno.test("an empty bearer token answers 401 invalid_token", async () => {
  await withAuthServer(async ({ verifier }) => {
    const request = new Request(RESOURCE, { headers: { authorization: "Bearer " } });
    await assertInvalidToken(await verifier().verify(request, RESOURCE), /empty bearer token/);
  });
});

Deno.test("a garbage token answers 401 invalid_token without echoing the token", async () => {
  await withAuthServer(async ({ verifier }) => {
    const garbage = "not-a-jwt-secret-value";
    const r = await assertInvalidToken(
      await verifier().verify(bearer(garbage), RESOURCE),
      /not a well-formed JWT/,
    );
    assert.equal(r.challenge.includes(garbage), false);
    assert.equal(r.message.includes(garbage), false);
  });
});

Deno.test("an expired token answers 401 invalid_token saying it expired", async () => {
  await withAuthServer(async ({ verifier, sign }) => {
    const token = await sign({}, { expiresAt: Math.floor(Date.now() / 1000) - 3600 });
    const r = await assertInvalidToken(await verifier().verify(bearer(token), RESOURCE), /expired/);
    assert.equal(r.challenge.includes(token), false);
  });
});

Deno.test("a token from another issuer answers 401 invalid_token naming the issuer check", async () => {
  await withAuthServer(async ({ verifier, sign }) => {
    const token = await sign({ iss: "https://evil.example.com" });
    await assertInvalidToken(await verifier().verify(bearer(token), RESOURCE), /issuer/);
  });
});

Deno.test("the issuer matches with or without a trailing slash", async () => {
  await withAuthServer(async ({ as, verifier, sign }) => {
    ok(await verifier().verify(bearer(await sign({ iss: `${as.url}/` })), RESOURCE));
    const slashed = new OAuthVerifier({ issuer: `${as.url}/`, scopes: [] });
    ok(await slashed.verify(bearer(await sign()), RESOURCE));
  });
});

Deno.test("a token for another audience answers 401 invalid_token naming the audience check", async () => {
  await withAuthServer(async ({ verifier, sign }) => {
    const token = await sign({ aud: "http://other.example.com/mcp" });
    await assertInvalidToken(await verifier().verify(bearer(token), RESOURCE), /audience/);
    const configured = verifier({ audience: "api://fal-mcp" });
    await assertInvalidToken(await configured.verify(bearer(await sign()), RESOURCE), /audience/);
    ok(await configured.verify(bearer(await sign({ aud: "api://fal-mcp" })), RESOURCE));
  });
});

Deno.test("the default audience is the resource URL, with or without /mcp and trailing slash", async () => {
  await withAuthServer(async ({ verifier, sign }) => {
    const v = verifier();
    for (
      const aud of [
        "http://127.0.0.1:8000/mcp",
        "http://127.0.0.1:8000/mcp/",
        "http://127.0.0.1:8000",
        "http://127.0.0.1:8000/",
        ["someone-else", "http://127.0.0.1:8000/mcp"],
      ]
    ) {
      ok(await v.verify(bearer(await sign({ aud })), RESOURCE));
    }
    await assertInvalidToken(
      await v.verify(bearer(await sign({ aud: "http://127.0.0.1:8001/mcp" })), RESOURCE),
      /audience/,
    );
  });
});

Deno.test("a token signed by a key the issuer does not publish answers 401", async () => {
  await withAuthServer(async ({ verifier, sign }) => {
    const v = verifier();
    const sameKid = await makeKey("key-1");
    await assertInvalidToken(
      await v.verify(bearer(await sign({}, { key: sameKid })), RESOURCE),
      /signature is invalid/,
    );
    const otherKid = await makeKey("key-unknown");
    await assertInvalidToken(
      await v.verify(bearer(await sign({}, { key: otherKid })), RESOURCE),
      /no signing key/,
    );
  });
});

Deno.test("an HS256 token answers 401: HMAC algorithms are refused", async () => {
  await withAuthServer(async ({ as, verifier }) => {
    const token = await new jose.SignJWT({ scope: "mcp" })
      .setProtectedHeader({ alg: "HS256", kid: "key-1" })
      .setIssuer(as.url)
      .setAudience(RESOURCE)
      .setSubject("user-1")
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode("a-shared-secret-of-at-least-32-bytes!!"));
    await assertInvalidToken(await verifier().verify(bearer(token), RESOURCE), /algorithm/);
  });
});

Deno.test("an alg none token answers 401", async () => {
  await withAuthServer(async ({ as, verifier }) => {
    const token = new jose.UnsecuredJWT({ scope: "mcp" })
      .setIssuer(as.url)
      .setAudience(RESOURCE)
      .setSubject("user-1")
      .setExpirationTime("5m")
      .encode();
    await assertInvalidToken(await verifier().verify(bearer(token), RESOURCE), /algorithm/);
  });
});

Deno.test("a token missing a required scope answers 403 insufficient_scope with the scope", async () => {
  await withAuthServer(async ({ verifier, sign }) => {
    const token = await sign({ scope: "mcp" });
    const v = verifier({ scopes: ["mcp", "mcp:admin"] });
    const r = await refusal(await v.verify(bearer(token), RESOURCE));
    assert.equal(r.status, 403);
    assert.equal(r.code, -32001);
    assert.equal(r.params.get("error"), "insufficient_scope");
    assert.equal(r.params.get("scope"), "mcp mcp:admin");
    assert.equal(r.params.get("resource_metadata"), RESOURCE_METADATA);
    assert.match(r.params.get("error_description") ?? "", /mcp:admin/);
  });
});

Deno.test("a token without sub answers 401 invalid_token", async () => {
  await withAuthServer(async ({ as, key, verifier }) => {
    const token = await new jose.SignJWT({ scope: "mcp" })
      .setProtectedHeader({ alg: "RS256", kid: key.kid })
      .setIssuer(as.url)
      .setAudience(RESOURCE)
      .setExpirationTime("5m")
      .sign(key.privateKey);
    await assertInvalidToken(await verifier().verify(bearer(token), RESOURCE), /sub/);
  });
});

Deno.test("discovery reads the authorization server metadata once and caches it", async () => {
  await withAuthServer(async ({ as, verifier, sign }) => {
    const v = verifier();
    ok(await v.verify(bearer(await sign()), RESOURCE));
    ok(await v.verify(bearer(await sign()), RESOURCE));
    assert.equal(as.hits.get("/.well-known/oauth-authorization-server"), 1);
    assert.equal(as.hits.get("/jwks"), 1);
  });
});

Deno.test("discovery falls back to OpenID configuration with RFC 8414 path insertion", async () => {
  await withAuthServer(async ({ as, sign }) => {
    const issuer = `${as.url}/tenant`;
    as.metadata.set("/.well-known/openid-configuration/tenant", {
      issuer,
      jwks_uri: `${as.url}/jwks`,
    });
    const token = await sign({ iss: issuer });
    ok(await new OAuthVerifier({ issuer, scopes: [] }).verify(bearer(token), RESOURCE));
    assert.equal(as.hits.get("/.well-known/oauth-authorization-server/tenant"), 1);
    assert.equal(as.hits.get("/.well-known/openid-configuration/tenant"), 1);
  });
});

Deno.test("metadata naming a different issuer is not trusted", async () => {
  await withAuthServer(async ({ as, verifier, sign }) => {
    as.metadata.set("/.well-known/oauth-authorization-server", {
      issuer: "https://evil.example.com",
      jwks_uri: `${as.url}/jwks`,
    });
    await assertInvalidToken(
      await verifier().verify(bearer(await sign()), RESOURCE),
      /keys could not be fetched/,
    );
    assert.equal(as.hits.get("/jwks"), undefined);
  });
});

Deno.test("an explicit jwksUrl skips discovery", async () => {
  await withAuthServer(async ({ as, verifier, sign }) => {
    const v = verifier({ jwksUrl: `${as.url}/jwks` });
    ok(await v.verify(bearer(await sign()), RESOURCE));
    assert.equal(as.hits.get("/.well-known/oauth-authorization-server"), undefined);
    assert.equal(as.hits.get("/.well-known/openid-configuration"), undefined);
    assert.equal(as.hits.get("/jwks"), 1);
  });
});

Deno.test("an issuer whose metadata is missing answers 401 saying its keys could not be fetched", async () => {
  await withAuthServer(async ({ as, sign }) => {
    const issuer = `${as.url}/nowhere`;
    const token = await sign({ iss: issuer });
    const v = new OAuthVerifier({ issuer, scopes: [] });
    await assertInvalidToken(await v.verify(bearer(token), RESOURCE), /keys could not be fetched/);
    // A second request within the retry pause reuses the failure instead of refetching.
    await assertInvalidToken(await v.verify(bearer(token), RESOURCE), /keys could not be fetched/);
    assert.equal(as.hits.get("/.well-known/oauth-authorization-server/nowhere"), 1);
  });
});

Deno.test("an unreachable issuer answers 401 instead of throwing", async () => {
  const closed = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    return new Response(null, { status: 500 });
  });
  const issuer = `http://127.0.0.1:${closed.addr.port}`;
  await closed.shutdown();
  const key = await makeKey("key-1");
  const token = await new jose.SignJWT({})
    .setProtectedHeader({ alg: "RS256", kid: key.kid })
    .setIssuer(issuer)
    .setAudience(RESOURCE)
    .setSubject("user-1")
    .setExpirationTime("5m")
    .sign(key.privateKey);
  const lines: string[] = [];
  const logger = {
    debug: () => {},
    info: () => {},
    warn: (msg: string, fields?: Record<string, unknown>) => {
      lines.push(JSON.stringify({ msg, ...fields }));
    },
    error: () => {},
    child() {
      return logger;
    },
  };
  const v = new OAuthVerifier({ issuer, scopes: [], logger });
  await assertInvalidToken(await v.verify(bearer(token), RESOURCE), /keys could not be fetched/);
  assert.ok(lines.length > 0, "the discovery failure is logged");
  assert.equal(lines.some((line) => line.includes(token)), false, "no token in logs");
});

Deno.test("a JWKS that cannot be fetched answers 401 instead of throwing", async () => {
  await withAuthServer(async ({ as, verifier, sign }) => {
    const v = verifier({ jwksUrl: `${as.url}/missing-jwks` });
    await assertInvalidToken(
      await v.verify(bearer(await sign()), RESOURCE),
      /keys could not be fetched/,
    );
  });
});

Deno.test("after key rotation a token signed with the new key verifies", async () => {
  await withAuthServer(async ({ as, verifier, sign }) => {
    const v = verifier({ jwksCooldownMs: 0 });
    ok(await v.verify(bearer(await sign()), RESOURCE));
    const rotated = await makeKey("key-2");
    const token = await sign({}, { key: rotated });
    as.keys.splice(0, as.keys.length, rotated.jwk);
    ok(await v.verify(bearer(token), RESOURCE));
    assert.equal(as.hits.get("/jwks"), 2);
  });
});

Deno.test("an unknown key id does not refetch the JWKS within the cooldown", async () => {
  await withAuthServer(async ({ as, verifier, sign }) => {
    const v = verifier();
    ok(await v.verify(bearer(await sign()), RESOURCE));
    const stranger = await makeKey("key-stranger");
    await assertInvalidToken(
      await v.verify(bearer(await sign({}, { key: stranger })), RESOURCE),
      /no signing key/,
    );
    assert.equal(as.hits.get("/jwks"), 1);
  });
});

Deno.test("the protected resource metadata document follows RFC 9728", () => {
  const issuer = "https://auth.example.com";
  assert.deepEqual(protectedResourceMetadata(RESOURCE, { issuer, scopes: ["mcp", "mcp:admin"] }), {
    resource: RESOURCE,
    authorization_servers: [issuer],
    scopes_supported: ["mcp", "mcp:admin"],
    bearer_methods_supported: ["header"],
    resource_name: "fal-mcp",
  });
  const noScopes = protectedResourceMetadata(RESOURCE, { issuer, scopes: [] });
  assert.equal("scopes_supported" in noScopes, false);
});

Deno.test("metadata paths and URLs use RFC 9728 path insertion", () => {
  assert.deepEqual(protectedResourceMetadataPaths(), [
    "/.well-known/oauth-protected-resource",
    "/.well-known/oauth-protected-resource/mcp",
  ]);
  assert.equal(
    metadataUrlFor("https://h.example/mcp"),
    "https://h.example/.well-known/oauth-protected-resource/mcp",
  );
  assert.equal(
    metadataUrlFor("https://h.example/mcp/"),
    "https://h.example/.well-known/oauth-protected-resource/mcp",
  );
  assert.equal(
    metadataUrlFor("https://h.example"),
    "https://h.example/.well-known/oauth-protected-resource",
  );
  assert.equal(
    metadataUrlFor("http://127.0.0.1:8000/prefix/mcp"),
    "http://127.0.0.1:8000/.well-known/oauth-protected-resource/prefix/mcp",
  );
});

Deno.test("invalid options are refused when the verifier is built", () => {
  assert.throws(() => new OAuthVerifier({ issuer: "not a url", scopes: [] }), TypeError);
  assert.throws(
    () => new OAuthVerifier({ issuer: "https://a.example", scopes: [], jwksUrl: "ftp://x/jwks" }),
    TypeError,
  );
  assert.throws(
    () => new OAuthVerifier({ issuer: "https://a.example", scopes: [], clockToleranceSeconds: -1 }),
    RangeError,
  );
});
