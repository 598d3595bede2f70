/**
 * The studio's JSON API over real HTTP against the fake fal: the same authentication as /mcp,
 * each caller sees only their own jobs, runs are validated against the model's schema, and
 * schema, estimate and spend answer from fal's data.
 */

import assert from "node:assert/strict";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";

/** Polls the studio API for a job until it is done, bounded by a count of checks. */
async function untilDone(url: string, id: string, token?: string) {
  for (let i = 0; i < 300; i++) {
    const body = await (await call(url, `/jobs/${id}`, token)).json();
    if (body.status === "COMPLETED") return body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${id} did not complete after 300 checks`);
}

const ALICE = "alice-token-0123456789abcdef";
const BOB = "bob-token-0123456789abcdef00";

function call(url: string, path: string, token?: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  return fetch(`${url}/studio/api${path}`, { ...init, headers });
}

Deno.test("studio API: asks for the token like /mcp, and each caller sees only their own jobs", () =>
  withFakeFal(async (fake) => {
    const server = await startTestHttpServer({
      env: { ...falEnv(fake), FAL_MCP_AUTH_TOKENS: `${ALICE},${BOB}` },
    });
    try {
      const page = await fetch(`${server.url}/studio`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type")!, /text\/html/);
      assert.match(page.headers.get("content-security-policy")!, /default-src 'self'/);
      assert.match(await page.text(), /fal studio/);

      const anonymous = await call(server.url, "/jobs");
      assert.equal(anonymous.status, 401);
      await anonymous.body?.cancel();
      const wrong = await call(server.url, "/jobs", "not-a-token-at-all-000000");
      assert.equal(wrong.status, 401);
      await wrong.body?.cancel();

      const run = await call(server.url, "/run", ALICE, {
        method: "POST",
        body: JSON.stringify({ endpoint_id: "fal-ai/flux/dev", input: { prompt: "a fox" } }),
      });
      assert.equal(run.status, 201);
      const job = await run.json();
      assert.equal(job.endpoint_id, "fal-ai/flux/dev");

      const done = await untilDone(server.url, job.id, ALICE);
      assert.equal(done.media[0].kind, "image");
      assert.ok(done.media[0].url.startsWith(fake.url));
      assert.equal(typeof done.cost, "number");
      assert.equal(done.currency, "USD");

      const mine = await (await call(server.url, "/jobs", ALICE)).json();
      assert.deepEqual(mine.jobs.map((j: { id: string }) => j.id), [job.id]);
      assert.deepEqual(mine.models, ["fal-ai/flux/dev"]);
      const filtered = await (await call(server.url, "/jobs?kind=video", ALICE)).json();
      assert.equal(filtered.jobs.length, 0);

      // Bob sees none of Alice's jobs, and her job id reads as unknown to him.
      const theirs = await (await call(server.url, "/jobs", BOB)).json();
      assert.deepEqual(theirs.jobs, []);
      const stolen = await call(server.url, `/jobs/${job.id}`, BOB);
      assert.equal(stolen.status, 404);
      await stolen.body?.cancel();

      const spend = await (await call(server.url, "/spend", ALICE)).json();
      assert.equal(spend.models[0].key, "fal-ai/flux/dev");
      assert.equal(spend.models[0].jobs, 1);
      assert.equal(spend.total, done.cost);
      assert.equal(spend.days[0].key, new Date().toISOString().slice(0, 10));
      const none = await (await call(server.url, "/spend", BOB)).json();
      assert.equal(none.total, 0);
    } finally {
      await server.close();
    }
  }));

Deno.test("studio API: schema, estimate, and a run the model's schema refuses", () =>
  withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake) });
    try {
      // Auth is off: the local owner.
      const schema = await (await call(server.url, "/schema?endpoint_id=fal-ai/flux/dev")).json();
      assert.ok(schema.input.properties.prompt);
      const estimate = await (await call(
        server.url,
        "/estimate?endpoint_id=fal-ai/flux/dev&quantity=2",
      )).json();
      assert.equal(estimate.currency, "USD");
      assert.ok(estimate.total_cost > 0);

      const bad = await call(server.url, "/run", undefined, {
        method: "POST",
        body: JSON.stringify({ endpoint_id: "fal-ai/flux/dev", input: { num_images: "many" } }),
      });
      assert.equal(bad.status, 400);
      assert.match((await bad.json()).error.message, /Input not accepted by fal-ai\/flux\/dev/);

      const huge = await call(server.url, "/run", undefined, {
        method: "POST",
        body: JSON.stringify({
          endpoint_id: "fal-ai/flux/dev",
          input: { prompt: "x".repeat(2e6) },
        }),
      });
      assert.equal(huge.status, 413);
      await huge.body?.cancel();

      const unknown = await call(server.url, "/schema?endpoint_id=fal-ai/no-such-model");
      assert.equal(unknown.status, 404);
      await unknown.body?.cancel();
      const missing = await call(server.url, "/nothing-here");
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
    } finally {
      await server.close();
    }
  }));
