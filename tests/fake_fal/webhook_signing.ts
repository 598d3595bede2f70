/**
 * How the fake signs webhook deliveries, as fal does: ED25519 over the UTF-8 of
 * `request id \n user id \n timestamp \n sha256-hex(body)`, the signature in hex, with the public
 * key published as a JWKS (at `/.well-known/jwks.json` of the fake).
 *
 * @module
 */

import { Buffer } from "node:buffer";

/** The key a test gives the fake to sign webhooks with. */
export interface WebhookSigningKey {
  /** ED25519 private key (WebCrypto). */
  privateKey: CryptoKey;
  /** Its public half as a JWK (`kty: OKP`, `crv: Ed25519`, `x`). */
  publicJwk: JsonWebKey;
  /** The fal user id deliveries name (default `fake-user`). */
  userId?: string;
}

/** A fresh ED25519 signing key. */
export async function makeWebhookSigningKey(): Promise<WebhookSigningKey> {
  const pair = await crypto.subtle.generateKey("Ed25519", true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
  return { privateKey: pair.privateKey, publicJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x } };
}

/** The four signature headers of one delivery of `body` (raw text) signed at `timestamp`. */
export async function webhookHeaders(
  key: WebhookSigningKey,
  requestId: string,
  body: string,
  timestamp: number = Math.floor(Date.now() / 1000),
): Promise<Record<string, string>> {
  const userId = key.userId ?? "fake-user";
  const digest = Buffer.from(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)),
  ).toString("hex");
  const message = new TextEncoder().encode(`${requestId}\n${userId}\n${timestamp}\n${digest}`);
  const signature = await crypto.subtle.sign("Ed25519", key.privateKey, message);
  return {
    "x-fal-webhook-request-id": requestId,
    "x-fal-webhook-user-id": userId,
    "x-fal-webhook-timestamp": String(timestamp),
    "x-fal-webhook-signature": Buffer.from(signature).toString("hex"),
  };
}
