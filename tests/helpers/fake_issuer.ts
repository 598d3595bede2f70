/**
 * A local fake OAuth authorization server (metadata + JWKS on 127.0.0.1) and RS256 signing keys,
 * for tests of the resource-server mode.
 *
 * @module
 */

import * as jose from "jose";

/** A signing key with its public JWK. */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: jose.JWK;
}

/** Makes an RS256 key pair; the JWK carries `kid`. */
export async function makeKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await jose.generateKeyPair("RS256", { extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  return { kid, privateKey, jwk: { ...jwk, kid, alg: "RS256", use: "sig" } };
}

/** A local fake authorization server: metadata documents by path, and one JWKS. */
export interface FakeAuthServer {
  /** `http://127.0.0.1:<port>`, the default issuer. */
  url: string;
  /** Keys published at `/jwks`; mutate to rotate. */
  keys: jose.JWK[];
  /** Metadata documents by request path; tests may add more. */
  metadata: Map<string, Record<string, unknown>>;
  /** Requests seen, by path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

/** Starts the fake authorization server on a free loopback port. */
export function startAuthServer(): FakeAuthServer {
  const keys: jose.JWK[] = [];
  const metadata = new Map<string, Record<string, unknown>>();
  const hits = new Map<string, number>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === "/jwks") return Response.json({ keys });
    const document = metadata.get(path);
    if (document !== undefined) return Response.json(document);
    return new Response("not found", { status: 404 });
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  metadata.set("/.well-known/oauth-authorization-server", {
    issuer: url,
    jwks_uri: `${url}/jwks`,
  });
  return { url, keys, metadata, hits, close: () => server.shutdown() };
}
