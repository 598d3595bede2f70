/**
 * What every tool needs: the caller, the fal client, storage, the job manager, settings and the
 * logger. Built once per process and shared by every transport; each caller gets a copy naming
 * its own principal.
 *
 * @module
 */

import type { CallHandoff } from "./call_handoff.ts";
import type { CostGuard } from "./costs/cost_guard.ts";
import type { Catalogue } from "./fal/catalogue.ts";
import type { FalClient } from "./fal/client.ts";
import type { SchemaCache } from "./fal/schema_cache.ts";
import type { FalStorage } from "./fal/storage.ts";
import type { LocalFileAccess } from "./files/local_files.ts";
import type { MediaFetcher } from "./files/media_fetch.ts";
import type { JobManager } from "./jobs/manager.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { Principal } from "./principal.ts";
import type { CallsInFlight } from "./calls_in_flight.ts";

/** Settings the tools read. */
export interface ToolSettings {
  /** Images up to this many bytes are also returned inline (0 disables). */
  inlineMaxBytes: number;
  /** When set, every generated file is also saved here. */
  outputDir: string | undefined;
  /** Base folder for per-call `save_to`; undefined refuses `save_to` (HTTP without --output-dir). */
  saveBaseDir: string | undefined;
  /** Slow tools answer with a job handle after waiting this long. */
  syncWaitMs: number;
  /** Default model per task tool, overriding the built-in defaults. */
  models: Record<string, string>;
  /** Which server-side files callers may name: any (stdio), none, or inside one shared folder. */
  localFiles: LocalFileAccess;
}

/** Dependencies handed to {@linkcode createServer} and every tool. */
export interface ServerDeps {
  /**
   * Who is calling: every job, task and resource the tools create or look up belongs to this
   * principal (another principal's job reads as "not found").
   */
  principal: Principal;
  /** The fal.ai client (of the caller's own key in bring-your-own-key mode). */
  fal: FalClient;
  /** fal storage uploads. */
  storage: FalStorage;
  /** The one way result media is fetched (fal's media hosts only, bounded). */
  media: MediaFetcher;
  /** Model schemas, cached. */
  schemas: SchemaCache;
  /** Submitted jobs: following, persistence, waiting, cancelling. */
  jobs: JobManager;
  /** Tool settings. */
  settings: ToolSettings;
  /** The process logger. */
  logger: Logger;
  /** Metrics registry. */
  metrics?: Metrics | undefined;
  /** The tool calls under way in this process, which graceful shutdown waits for. */
  underWay?: CallsInFlight | undefined;
  /** The fal catalogue, cached per process (for completions and recommendations). */
  catalogue?: Catalogue | undefined;
  /** Cost confirmation and daily budgets (off when absent). */
  costs?: CostGuard | undefined;
  /**
   * Aborts when the server stops accepting work: tools waiting on a job then answer with the
   * job's id (it keeps running at fal) instead of being cut off.
   */
  stopping?: AbortSignal | undefined;
  /** Session calls that may be finished by another instance of a cluster (absent otherwise). */
  calls?: CallHandoff | undefined;
}
