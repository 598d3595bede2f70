/**
 * fal's webhook deliveries, verified as fal documents them: each POST carries
 * `X-Fal-Webhook-Request-Id`, `X-Fal-Webhook-User-Id`, `X-Fal-Webhook-Timestamp` (Unix seconds)
 * and `X-Fal-Webhook-Signature` (hex), an ED25519 signature over the UTF-8 of
 * `request id \n user id \n timestamp \n sha256-hex(raw body)` by one of the keys fal publishes as
 * a JWKS (`keys[].x`, base64url). Deliveries more than five minutes off are refused.
 *
 * @example
 * ```ts ignore
 * import { WebhookVerifier } from "./webhook.ts";
 *
 * const verifier = new WebhookVerifier({ jwksUrl: "https://rest.alpha.fal.ai/.well-known/jwks.json" });
 * const outcome = await verifier.verify(request.headers, new Uint8Array(await request.arrayBuffer()));
 * ```
 *
 * @module
 */

import { Buffer } from "node:buffer";

/** Where fal publishes the public keys of its webhook signatures. */
export const FAL_WEBHOOK_JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json";

/** Most seconds a delivery's timestamp may be off the local clock. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** How long fetched keys are used before they are fetched again (fal: at most 24 h). */
const KEYS_TTL_MS = 60 * 60 * 1000;

/** A webhook's outcome, as fal posts it. */
export interface FalWebhookBody {
  /** The queue request id. */
  request_id: string;
  /** `OK` or `ERROR`. */
  status: string;
  /** The result (OK) or error details (ERROR). */
  payload?: unknown;
  /** Why it failed. */
  error?: unknown;
  /** Why the payload is missing (it did not serialize). */
  payload_error?: unknown;
}

/** The verdict on one delivery. */
export type WebhookVerdict =
  | { ok: true; requestId: string; body: FalWebhookBody }
  | { ok: false; reason: string };

/** Options for {@linkcode WebhookVerifier}. */
export interface WebhookVerifierOptions {
  /** The JWKS URL (fal's by default). */
  jwksUrl?: string | undefined;
  /** Injected fetch (tests). */
  fetch?: typeof fetch;
  /** The clock in ms (tests). */
  now?: () => number;
}

function hex(bytes: ArrayBuffer): string {
  return Buffer.from(bytes).toString("hex");
}

/** Verifies fal webhook deliveries against fal's published keys. */
export class WebhookVerifier {
  readonly #jwksUrl: string;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  #keys: Promise<CryptoKey[]> | undefined;
  #fetchedAt = 0;

  /** Creates a verifier; keys are fetched on first use. */
  constructor(options: WebhookVerifierOptions = {}) {
    this.#jwksUrl = options.jwksUrl ?? FAL_WEBHOOK_JWKS_URL;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? Date.now;
  }

  #loadKeys(refresh: boolean): Promise<CryptoKey[]> {
    if (!this.#keys || refresh || this.#now() - this.#fetchedAt > KEYS_TTL_MS) {
      this.#fetchedAt = this.#now();
      const loading = (async () => {
        const response = await this.#fetch(this.#jwksUrl, { signal: AbortSignal.timeout(10_000) });
        if (!response.ok) throw new Error(`the key set answered HTTP ${response.status}`);
        const set = await response.json() as {
          keys?: { kty?: string; crv?: string; x?: string }[];
        };
        const keys: CryptoKey[] = [];
        for (const jwk of set.keys ?? []) {
          if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") continue;
          // fal's published x is sometimes padded; WebCrypto wants unpadded base64url.
          const x = jwk.x.replace(/=+$/, "");
          keys.push(
            await crypto.subtle.importKey(
              "jwk",
              { kty: "OKP", crv: "Ed25519", x },
              "Ed25519",
              false,
              [
                "verify",
              ],
            ),
          );
        }
        return keys;
      })();
      loading.catch(() => this.#keys === loading && (this.#keys = undefined));
      this.#keys = loading;
    }
    return this.#keys;
  }

  /** Checks one delivery's headers and raw body. */
  async verify(headers: Headers, rawBody: Uint8Array<ArrayBuffer>): Promise<WebhookVerdict> {
    const requestId = headers.get("x-fal-webhook-request-id");
    const userId = headers.get("x-fal-webhook-user-id");
    const timestamp = headers.get("x-fal-webhook-timestamp");
    const signature = headers.get("x-fal-webhook-signature");
    if (!requestId || !userId || !timestamp || !signature) {
      return { ok: false, reason: "a signature header is missing" };
    }
    const seconds = Number(timestamp);
    if (!/^\d{1,12}$/.test(timestamp) || !Number.isSafeInteger(seconds)) {
      return { ok: false, reason: "the timestamp is not Unix seconds" };
    }
    if (Math.abs(this.#now() / 1000 - seconds) > WEBHOOK_TOLERANCE_SECONDS) {
      return { ok: false, reason: "the timestamp is more than five minutes off" };
    }
    if (!/^[0-9a-fA-F]{128}$/.test(signature)) {
      return { ok: false, reason: "the signature is not 64 bytes of hex" };
    }
    const digest = hex(await crypto.subtle.digest("SHA-256", rawBody));
    const message = new TextEncoder().encode(`${requestId}\n${userId}\n${timestamp}\n${digest}`);
    const signatureBytes = Uint8Array.from(Buffer.from(signature, "hex"));
    let verified = false;
    for (const refresh of [false, true]) {
      let keys: CryptoKey[];
      try {
        keys = await this.#loadKeys(refresh);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return { ok: false, reason: `fal's signing keys could not be fetched (${reason})` };
      }
      for (const key of keys) {
        if (await crypto.subtle.verify("Ed25519", key, signatureBytes, message)) verified = true;
      }
      // An unknown signature may be from a key fal added since: fetch the set again once.
      if (verified || this.#now() - this.#fetchedAt < 60_000) break;
    }
    if (!verified) return { ok: false, reason: "the signature does not verify" };
    let body: FalWebhookBody;
    try {
      body = JSON.parse(new TextDecoder().decode(rawBody)) as FalWebhookBody;
    } catch {
      return { ok: false, reason: "the body is not JSON" };
    }
    if (!body || typeof body !== "object" || body.request_id !== requestId) {
      return { ok: false, reason: "the body's request_id differs from the signed one" };
    }
    return { ok: true, requestId, body };
  }
}
