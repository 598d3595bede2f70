import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import * as jose from "jose";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { makeKey, startAuthServer } from "./helpers/fake_issuer.ts";
import { initializeBody, post, POST_HEADERS } from "./helpers/raw_mcp.ts";

/** The server's public URL, as a proxy in front of it would serve it. */
const PUBLIC = "https://mcp.example.test";

async function withOAuthServer(
  fn: (ctx: { url: string; sign: (claims: jose.JWTPayload) => Promise<string> }) => Promise<void>,
): Promise<void> {
  const issuer = startAuthServer();
  const key = await makeKey("k1");
  issuer.keys.push(key.jwk);
  const server = await startTestHttpServer({
    args: ["--oauth-issuer", issuer.url, "--oauth-scopes", "mcp:tools", "--public-url", PUBLIC],
  });
  try {
    await fn({
      url: server.url,
      sign: (claims) =>
        new jose.SignJWT({
          iss: issuer.url,
          aud: `${PUBLIC}/mcp`,
          sub: "alice",
          scope: "mcp:tools",
          ...claims,
        })
          .setProtectedHeader({ alg: "RS256", kid: "k1" })
          .setIssuedAt()
          .setExpirationTime("5m")
          .sign(key.privateKey),
    });
  } finally {
    await server.close();
    await issuer.close();
  }
}

Deno.test("OAuth: protected-resource metadata (RFC 9728) is published at its well-known paths", async () => {
  await withOAuthServer(async ({ url }) => {
    for (
      const path of [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
      ]
    ) {
      const res = await fetch(`${url}${path}`);
      assert.equal(res.status, 200, path);
      const body = await res.json();
      assert.equal(body.resource, `${PUBLIC}/mcp`);
      assert.equal(body.authorization_servers.length, 1);
      assert.deepEqual(body.scopes_supported, ["mcp:tools"]);
    }
  });
});

Deno.test("OAuth: no token answers 401 pointing at the metadata; a bad one 401 invalid_token", async () => {
  await withOAuthServer(async ({ url }) => {
    const none = await post(`${url}/mcp`, initializeBody());
    assert.equal(none.status, 401);
    const challenge = none.headers.get("www-authenticate") ?? "";
    assert.match(challenge, /^Bearer /);
    assert.match(
      challenge,
      /resource_metadata="[^"]*\/\.well-known\/oauth-protected-resource\/mcp"/,
    );
    await none.body?.cancel();
    const bad = await post(`${url}/mcp`, initializeBody(), {
      ...POST_HEADERS,
      authorization: "Bearer not.a.jwt",
    });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get("www-authenticate") ?? "", /error="invalid_token"/);
    await bad.body?.cancel();
  });
});

Deno.test("OAuth: a token without the required scope answers 403 insufficient_scope", async () => {
  await withOAuthServer(async ({ url, sign }) => {
    const token = await sign({ scope: "profile" });
    const res = await post(`${url}/mcp`, initializeBody(), {
      ...POST_HEADERS,
      authorization: `Bearer ${token}`,
    });
    assert.equal(res.status, 403);
    assert.match(res.headers.get("www-authenticate") ?? "", /error="insufficient_scope"/);
    await res.body?.cancel();
  });
});

Deno.test("OAuth: a valid access token admits a real client", async () => {
  await withOAuthServer(async ({ url, sign }) => {
    const token = await sign({});
    const client = new Client({ name: "oauth-test", version: "1.0.0" }, {
      versionNegotiation: { mode: { pin: "2026-07-28" } },
    });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      assert.ok((await client.listTools()).tools.some((t) => t.name === "generate_image"));
    } finally {
      await client.close();
    }
  });
});
