/**
 * No paid job lost: the real server process, killed with SIGKILL during a burst of submits,
 * refused submits on a full disk, and damaged job stores, each against the fake fal.
 */

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SqliteJobStore } from "../src/jobs/sqlite_store.ts";
import type { JobRecord } from "../src/jobs/types.ts";
import type { FakeFal } from "./fake_fal/server.ts";
import { mainArgs, waitForLogLine } from "./helpers/process.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import { withTempDir } from "./helpers/temp_dir.ts";
import { allText, type ToolAnswer } from "./helpers/tool_client.ts";
import { waitFor } from "./helpers/wait_for.ts";

const ENDPOINT = "fal-ai/flux/dev";

/** A server process on a state dir, with its stderr lines collected as they come. */
interface ServerProcess {
  child: Deno.ChildProcess;
  url: string;
  lines: string[];
  /** Sends SIGKILL (or SIGTERM) and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<void>;
}

async function startServerProcess(fake: FakeFal, stateDir: string): Promise<ServerProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: mainArgs(
      "--transport",
      "http",
      "--port",
      "0",
      "--job-store",
      "sqlite",
      "--state-dir",
      stateDir,
    ),
    env: { ...falEnv(fake), NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const [first, rest] = child.stderr.tee();
  const listening = await waitForLogLine(first, (r) => r.msg === "listening", lines);
  first.cancel().catch(() => {});
  // Keep reading (and collecting) the rest, so the child never blocks on a full pipe.
  const draining = (async () => {
    let buffer = "";
    for await (const chunk of rest.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        lines.push(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
      }
    }
  })().catch(() => {});
  return {
    child,
    url: String(listening.url),
    lines,
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // already exited
      }
      await child.status;
      await draining;
    },
  };
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: "no-job-lost", version: "1.0.0" }, {
    versionNegotiation: { mode: { pin: "2026-07-28" } },
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
  return client;
}

function submitJob(client: Client, input: Record<string, unknown>): Promise<ToolAnswer> {
  return client.callTool({
    name: "submit_job",
    arguments: { endpoint_id: ENDPOINT, input },
  }, { timeout: 120_000 }) as Promise<ToolAnswer>;
}

/** Every record in the state dir's store, read by this process (the server may run beside). */
function records(stateDir: string): JobRecord[] {
  const db = new DatabaseSync(join(stateDir, "jobs.sqlite3"), { readOnly: true });
  try {
    return db.prepare("SELECT record FROM jobs").all().map((row) =>
      JSON.parse(String(row.record)) as JobRecord
    );
  } finally {
    db.close();
  }
}

Deno.test("kill -9 during a burst of submits, then restart: every id fal accepted has a record", async () => {
  await withTempDir(async (dir) => {
    await withFakeFal(async (fake) => {
      // The first submits are accepted by fal but their answers are held back: the server is
      // killed while they are in flight, so only its write-ahead records know of them.
      fake.injectFault({ match: "submit", respond: "delay_answer", delayMs: 120_000, times: 8 });
      const first = await startServerProcess(fake, dir);
      const client = await connect(first.url);
      const inputs = Array.from({ length: 24 }, (_, i) => ({
        // Two identical inputs too: each must still get its own fal request.
        prompt: i < 2 ? "the same lighthouse" : `lighthouse number ${i}`,
        seed: i < 2 ? 1 : i,
      }));
      const calls = inputs.map((input) => submitJob(client, input).catch((error) => error));
      await waitFor(() => fake.accepted().length === inputs.length, "fal to accept every submit");
      // Some answers have reached the server, the held ones have not.
      await first.stop("SIGKILL");
      assert.equal((await first.child.status).signal, "SIGKILL");
      // The calls lost their server; closing the client ends them.
      await client.close().catch(() => {});
      await Promise.allSettled(calls);

      const accepted = fake.accepted();
      const beforeRestart = records(dir);
      assert.ok(
        beforeRestart.some((r) => r.status === "PENDING"),
        "the held submits were recorded ahead, as PENDING",
      );

      const second = await startServerProcess(fake, dir);
      try {
        let current: JobRecord[] = [];
        for (let check = 0; check < 1500; check++) {
          current = records(dir);
          const known = new Set(current.map((r) => r.id));
          if (accepted.every((id) => known.has(id))) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const known = new Set(current.map((r) => r.id));
        const missing = accepted.filter((id) => !known.has(id));
        assert.deepEqual(
          missing,
          [],
          `accepted by fal but without a record:\n${second.lines.join("\n")}`,
        );
        assert.equal(current.length, accepted.length, "one record per accepted job, no more");
        assert.deepEqual(current.filter((r) => r.status === "PENDING"), []);
        for (const record of current) {
          const job = fake.state.jobs.get(record.id)!;
          assert.deepEqual(record.input, job.input, "each record holds its own job's input");
        }
        assert.ok(
          second.lines.some((line) => line.includes("interrupted submit found at fal")),
          "the restart settled the pending records with fal's listing",
        );
      } finally {
        await second.stop();
      }
    }, { jobDurationMs: 100 });
  });
});

Deno.test("a job store whose damaged record is quarantined: the server starts and serves", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "jobs.sqlite3");
    const store = SqliteJobStore.open(path);
    const now = new Date().toISOString();
    const base: JobRecord = {
      id: "good-job",
      endpointId: ENDPOINT,
      owner: "someone",
      status: "COMPLETED",
      logs: [],
      input: { prompt: "x" },
      result: { images: [] },
      createdAt: now,
      updatedAt: now,
    };
    await store.put(base);
    await store.put({ ...base, id: "damaged-job", status: "IN_PROGRESS" });
    await store.close();
    const db = new DatabaseSync(path);
    db.prepare("UPDATE jobs SET record = ? WHERE id = ?").run("{not json", "damaged-job");
    db.close();

    await withFakeFal(async (fake) => {
      const server = await startServerProcess(fake, dir);
      try {
        const ready = await fetch(`${server.url}/ready`);
        assert.equal(ready.status, 200, await ready.text());
        await waitFor(
          () => server.lines.some((line) => line.includes("damaged job record quarantined")),
          "the quarantine to be logged",
        );
        const line = JSON.parse(
          server.lines.find((l) => l.includes("damaged job record quarantined"))!,
        );
        assert.equal(line.level, "error");
        assert.equal(line.job_id, "damaged-job");
        const client = await connect(server.url);
        try {
          const answer = await submitJob(client, { prompt: "after the quarantine" });
          assert.notEqual(answer.isError, true, allText(answer));
        } finally {
          await client.close();
        }
      } finally {
        await server.stop();
      }
    });
    const reopened = SqliteJobStore.open(path);
    try {
      const quarantined = await reopened.quarantined();
      assert.deepEqual(quarantined.map((q) => q.id), ["damaged-job"]);
      assert.match(quarantined[0]!.row, /not json/, "the damaged row is kept as it was");
      assert.equal((await reopened.get("good-job"))?.status, "COMPLETED");
    } finally {
      await reopened.close();
    }
  });
});

Deno.test("a job store file that is not a database is moved aside and the server starts", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "jobs.sqlite3"), "this is not a database ".repeat(200));
    await withFakeFal(async (fake) => {
      const server = await startServerProcess(fake, dir);
      try {
        assert.equal((await fetch(`${server.url}/ready`)).status, 200);
        const moved = server.lines.find((l) => l.includes("damaged job store file moved aside"));
        assert.ok(moved, server.lines.join("\n"));
        const aside = String(JSON.parse(moved).moved_to);
        assert.match(await Deno.readTextFile(aside), /this is not a database/);
      } finally {
        await server.stop();
      }
    });
  });
});

/** Runs `mount` with `args` (as root, or through passwordless sudo); answers whether it worked. */
async function mount(...args: string[]): Promise<boolean> {
  for (const command of [["mount"], ["sudo", "-n", "mount"]]) {
    try {
      const { success } = await new Deno.Command(command[0]!, {
        args: [...command.slice(1), ...args],
        stdout: "null",
        stderr: "null",
      }).output();
      if (success) return true;
    } catch {
      // no such command
    }
  }
  return false;
}

/** Mounts a tmpfs of `size` at `dir`. */
function mountTmpfs(dir: string, size: string): Promise<boolean> {
  return mount("-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir);
}

async function unmount(dir: string): Promise<void> {
  for (const command of [["umount"], ["sudo", "-n", "umount"]]) {
    try {
      const { success } = await new Deno.Command(command[0]!, {
        args: [...command.slice(1), dir],
        stdout: "null",
        stderr: "null",
      }).output();
      if (success) return;
    } catch {
      // no such command
    }
  }
}

/** Whether this machine lets the test mount a small tmpfs (a real disk that fills up). */
const CAN_MOUNT = Deno.build.os === "linux" && await (async () => {
  const dir = await Deno.makeTempDir();
  try {
    const mounted = await mountTmpfs(dir, "64k");
    if (mounted) await unmount(dir);
    return mounted;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
})();

/** Writes into `dir` until the disk is full; answers the filler's path. */
async function fillDisk(dir: string): Promise<string> {
  const path = join(dir, "filler");
  const file = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(4096).fill(7);
  try {
    while (true) await file.write(chunk);
  } catch (error) {
    if (!String(error).match(/No space left|ENOSPC|os error 28/i)) throw error;
  } finally {
    file.close();
  }
  return path;
}

Deno.test({
  name:
    "a full state disk refuses submits before anything is sent to fal and /ready says not ready; a read-only one refuses to start",
  ignore: !CAN_MOUNT,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    assert.ok(await mountTmpfs(dir, "1m"), "mounting a small tmpfs");
    try {
      await withFakeFal(async (fake) => {
        const server = await startServerProcess(fake, join(dir, "state"));
        try {
          assert.equal((await fetch(`${server.url}/ready`)).status, 200);
          const filler = await fillDisk(dir);
          const notReady = await fetch(`${server.url}/ready`);
          const readiness = await notReady.json();
          assert.equal(notReady.status, 503, JSON.stringify(readiness));
          assert.equal(readiness.status, "not_ready");
          assert.match(readiness.not_ready, /job store cannot write/);

          const client = await connect(server.url);
          try {
            const refused = await submitJob(client, { prompt: "on a full disk" });
            assert.equal(refused.isError, true);
            assert.match(allText(refused), /nothing was sent to fal and nothing was charged/);
            assert.match(allText(refused), /full/i, "the reason names the full disk");
            assert.equal(
              fake.state.requests.filter((r) => r.method === "POST").length,
              0,
              "no submit reached fal",
            );

            // Space again: ready, and submits go through.
            await Deno.remove(filler);
            assert.equal((await fetch(`${server.url}/ready`)).status, 200);
            const accepted = await submitJob(client, { prompt: "space again" });
            assert.notEqual(accepted.isError, true, allText(accepted));
            assert.equal(fake.accepted().length, 1);
          } finally {
            await client.close();
          }
        } finally {
          await server.stop();
        }

        // A read-only disk at start: the server refuses to start, naming the store and the fix.
        assert.ok(await mount("-o", "remount,ro", dir), "remounting read-only");
        const readOnly = await new Deno.Command(Deno.execPath(), {
          args: mainArgs(
            "--transport",
            "http",
            "--port",
            "0",
            "--job-store",
            "sqlite",
            "--state-dir",
            join(dir, "state"),
          ),
          env: { ...falEnv(fake), NO_COLOR: "1" },
          clearEnv: true,
          stdin: "null",
          stdout: "null",
          stderr: "piped",
        }).output();
        const stderr = new TextDecoder().decode(readOnly.stderr);
        assert.notEqual(readOnly.code, 0, stderr);
        assert.match(stderr, /Cannot open the job store at/);
        assert.match(stderr, /--state-dir/);
        assert.equal(fake.accepted().length, 1, "nothing more reached fal");
      });
    } finally {
      await unmount(dir);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
