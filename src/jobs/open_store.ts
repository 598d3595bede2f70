/**
 * Opens the job store the configuration asks for.
 *
 * @example
 * ```ts
 * import { openJobStore } from "./open_store.ts";
 * import { silentLogger } from "../log.ts";
 *
 * const store = openJobStore("sqlite", "/var/lib/fal-mcp", silentLogger);
 * await store.close();
 * ```
 *
 * @module
 */

import { join } from "node:path";
import type { Logger } from "../log.ts";
import { MemoryJobStore } from "./memory_store.ts";
import { SqliteJobStore } from "./sqlite_store.ts";
import type { JobStore } from "./types.ts";
import { errorMessage } from "../errors.ts";

/** The kinds of job store `--job-store` accepts. */
export type JobStoreKind = "sqlite" | "memory";

/** The file name of the SQLite job store inside the state directory. */
export const JOB_DB_FILE = "jobs.sqlite3";

/**
 * Opens a job store: `sqlite` at `<stateDir>/jobs.sqlite3` (created if missing), or `memory`
 * (records are lost when the process ends; `stateDir` is not used).
 *
 * @throws {Error} when the SQLite file cannot be opened; the message names the path and how to
 * pick another one.
 */
export function openJobStore(kind: JobStoreKind, stateDir: string, logger: Logger): JobStore {
  if (kind === "memory") {
    logger.info("job store opened", { kind, note: "jobs are forgotten when the server stops" });
    return new MemoryJobStore();
  }
  const path = join(stateDir, JOB_DB_FILE);
  const onQuarantine = (id: string, reason: string) =>
    logger.error("damaged job record quarantined", {
      job_id: id,
      reason,
      path,
      note: "the row is kept in the quarantine table of the job store; the server goes on",
    });
  let store: SqliteJobStore;
  try {
    try {
      store = SqliteJobStore.open(path, onQuarantine);
    } catch (error) {
      if (!isDamagedFile(error)) throw error;
      // A damaged file never stops the server: keep it aside for inspection, start a new one.
      const aside = `${path}.damaged-${new Date().toISOString().replace(/[:.]/g, "-")}`;
      for (const suffix of ["", "-wal", "-shm"]) {
        try {
          Deno.renameSync(path + suffix, aside + suffix);
        } catch (renameError) {
          if (!(renameError instanceof Deno.errors.NotFound)) throw renameError;
        }
      }
      logger.error("damaged job store file moved aside; starting a new one", {
        path,
        moved_to: aside,
        reason: error instanceof Error ? error.message : String(error),
      });
      store = SqliteJobStore.open(path, onQuarantine);
    }
  } catch (error) {
    const reason = errorMessage(error);
    throw new Error(
      `Cannot open the job store at ${path}: ${reason}. Use --state-dir to pick a writable ` +
        "folder, or --job-store memory to keep jobs in memory only",
      { cause: error },
    );
  }
  logger.info("job store opened", { kind, path });
  return store;
}

/** Whether opening failed because the file is not (or no longer) an SQLite database. */
function isDamagedFile(error: unknown): boolean {
  // SQLITE_NOTADB and SQLITE_CORRUPT, as node:sqlite words them (it sets no numeric code).
  const message = error instanceof Error ? error.message : "";
  return /file is not a database|database disk image is malformed/i.test(message);
}
