import assert from "node:assert/strict";
import { WebhookVerifier } from "../src/fal/webhook.ts";
import { makeWebhookSigningKey, webhookHeaders } from "./fake_fal/webhook_signing.ts";

const body = JSON.stringify({ request_id: "req-1", status: "OK", payload: { images: [] } });
const encoder = new TextEncoder();

function verifierFor(
  jwks: unknown[],
  now = Date.now(),
): { verifier: WebhookVerifier; fetches: () => number } {
  let count = 0;
  const verifier = new WebhookVerifier({
    jwksUrl: "http://keys.test/jwks.json",
    fetch: () => {
      count++;
      return Promise.resolve(Response.json({ keys: jwks }));
    },
    now: () => now,
  });
  return { verifier, fetches: () => count };
}

Deno.test("webhook: a delivery signed as fal signs verifies, also with a padded x in the key set", async () => {
  const key = await makeWebhookSigningKey();
  const { verifier, fetches } = verifierFor([
    { ...key.publicJwk, x: `${key.publicJwk.x}=` },
  ]);
  const verdict = await verifier.verify(
    new Headers(await webhookHeaders(key, "req-1", body)),
    encoder.encode(body),
  );
  assert.equal(verdict.ok, true);
  if (verdict.ok) assert.equal(verdict.body.status, "OK");
  await verifier.verify(
    new Headers(await webhookHeaders(key, "req-1", body)),
    encoder.encode(body),
  );
  assert.equal(fetches(), 1, "the key set is cached");
});

Deno.test("webhook: forged, tampered, stale, unsigned or mismatched deliveries are refused", async () => {
  const key = await makeWebhookSigningKey();
  const forger = await makeWebhookSigningKey();
  const { verifier } = verifierFor([key.publicJwk]);
  const refuse = async (headers: Record<string, string>, raw: string, reason: RegExp) => {
    const verdict = await verifier.verify(new Headers(headers), encoder.encode(raw));
    assert.equal(verdict.ok, false);
    if (!verdict.ok) assert.match(verdict.reason, reason);
  };
  await refuse(await webhookHeaders(forger, "req-1", body), body, /does not verify/);
  await refuse(await webhookHeaders(key, "req-1", body), body.replace("OK", "ERROR"), /verify/);
  const stale = Math.floor(Date.now() / 1000) - 301;
  await refuse(await webhookHeaders(key, "req-1", body, stale), body, /five minutes/);
  const { "x-fal-webhook-signature": _, ...unsigned } = await webhookHeaders(key, "req-1", body);
  await refuse(unsigned, body, /missing/);
  // Signed for another request id than the body names.
  await refuse(await webhookHeaders(key, "req-2", body), body, /request_id/);
});
