import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { FalClient } from "../src/fal/client.ts";
import { resolveFalHosts } from "../src/fal/hosts.ts";
import type { FakeFal } from "./fake_fal/server.ts";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { falEnv, TEST_FAL_KEY, withFakeFal } from "./helpers/scenario.ts";
import { withTempDir } from "./helpers/temp_dir.ts";
import { allText, type ToolAnswer } from "./helpers/tool_client.ts";

const KEY_ALICE = "alice-key-id:alice-secret-0001";
const KEY_BOB = "bob-key-id:bob-secret-0002";

/** The owner earlier versions stored: a hash of the fal key that submitted the job. */
function legacyOwner(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 32);
}

/**
 * Writes `jobs.sqlite3` in `dir` exactly as earlier versions did (schema version 1, owner = the
 * submitting fal key's hash, no key id): one job completed with its result, and one still
 * running at fal (submitted to the fake with `key`).
 */
async function writeLegacyDatabase(dir: string, fake: FakeFal, key: string) {
  const fal = new FalClient({ hosts: resolveFalHosts(fake.url), key });
  const submitted = await fal.submit("fal-ai/flux/dev", { prompt: "running across the upgrade" });
  const db = new DatabaseSync(join(dir, "jobs.sqlite3"));
  db.exec(`CREATE TABLE jobs (
     id TEXT PRIMARY KEY,
     owner TEXT NOT NULL,
     endpoint_id TEXT NOT NULL,
     status TEXT NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     record TEXT NOT NULL
   ) STRICT;
   CREATE INDEX jobs_owner_created ON jobs (owner, created_at DESC, id DESC);
   CREATE INDEX jobs_status ON jobs (status);
   PRAGMA user_version = 1;`);
  const insert = db.prepare(
    "INSERT INTO jobs VALUES (:id, :owner, :endpoint, :status, :created, :updated, :record)",
  );
  const owner = legacyOwner(key);
  const old = {
    id: "11111111-1111-4111-8111-111111111111",
    endpointId: "fal-ai/flux/dev",
    owner,
    status: "COMPLETED",
    logs: [],
    input: { prompt: "finished long ago" },
    result: { images: [{ url: `${fake.url}/media/old.png`, content_type: "image/png" }] },
    tool: "generate_image",
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:05.000Z",
    finishedAt: "2026-01-01T00:00:05.000Z",
  };
  const running = {
    id: submitted.request_id,
    endpointId: "fal-ai/flux/dev",
    owner,
    status: "IN_QUEUE",
    logs: [],
    input: { prompt: "running across the upgrade" },
    tool: "submit_job",
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  };
  for (const record of [old, running]) {
    insert.run({
      id: record.id,
      owner,
      endpoint: record.endpointId,
      status: record.status,
      created: record.createdAt,
      updated: record.updatedAt,
      record: JSON.stringify(record),
    });
  }
  db.close();
  return { finished: old.id, running: running.id };
}

async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: "legacy-test", version: "1.0.0" }, {
    versionNegotiation: { mode: { pin: "2026-07-28" } },
  });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }),
  );
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>) {
  return await client.callTool({ name, arguments: args }, { timeout: 30_000 }) as ToolAnswer;
}

function jobIds(answer: ToolAnswer): string[] {
  return (answer.structuredContent?.jobs as { job_id: string }[]).map((j) => j.job_id).sort();
}

Deno.test("a job database of an earlier version (owners are fal-key hashes) keeps working: its jobs belong to the local owner and unfinished ones complete", async () => {
  await withTempDir(async (dir) => {
    await withFakeFal(async (fake) => {
      const { finished, running } = await writeLegacyDatabase(dir, fake, TEST_FAL_KEY);
      const server = await startTestHttpServer({
        env: falEnv(fake),
        args: ["--job-store", "sqlite", "--state-dir", dir],
      });
      const client = await connect(server.url);
      try {
        assert.deepEqual(jobIds(await call(client, "list_jobs", {})), [finished, running].sort());
        const old = await call(client, "get_job", { job_id: finished });
        assert.equal(old.structuredContent?.status, "COMPLETED", allText(old));
        const followed = await call(client, "get_job", { job_id: running, wait_seconds: 30 });
        assert.equal(followed.structuredContent?.status, "COMPLETED", allText(followed));
      } finally {
        await client.close();
        await server.close();
      }
      // The migration is written back: the records now name their principal and key.
      const db = new DatabaseSync(join(dir, "jobs.sqlite3"));
      const rows = db.prepare("SELECT owner, record FROM jobs").all();
      db.close();
      for (const row of rows) {
        assert.equal(row.owner, "local");
        assert.equal(JSON.parse(String(row.record)).keyId, "server");
      }
    });
  });
});

Deno.test("a BYOK job database of an earlier version: each caller's old jobs stay theirs and are followed with their key", async () => {
  await withTempDir(async (dir) => {
    await withFakeFal(async (fake) => {
      const { finished, running } = await writeLegacyDatabase(dir, fake, KEY_ALICE);
      const server = await startTestHttpServer({
        env: { FAL_BASE_URL: fake.url },
        args: ["--byok", "--job-store", "sqlite", "--state-dir", dir],
      });
      const alice = await connect(server.url, { authorization: `Bearer ${KEY_ALICE}` });
      const bob = await connect(server.url, { authorization: `Bearer ${KEY_BOB}` });
      const nobody = await connect(server.url);
      try {
        assert.deepEqual(jobIds(await call(bob, "list_jobs", {})), []);
        assert.deepEqual(jobIds(await call(nobody, "list_jobs", {})), []);
        assert.equal((await call(bob, "get_job", { job_id: running })).isError, true);
        assert.deepEqual(jobIds(await call(alice, "list_jobs", {})), [finished, running].sort());
        const followed = await call(alice, "get_job", { job_id: running, wait_seconds: 30 });
        assert.equal(followed.structuredContent?.status, "COMPLETED", allText(followed));
        assert.equal(fake.state.jobs.get(running)?.key, KEY_ALICE);
      } finally {
        await Promise.allSettled([alice.close(), bob.close(), nobody.close()]);
        await server.close();
      }
    });
  });
});
