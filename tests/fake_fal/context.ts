/**
 * What every handler of the fake fal server shares: its origin, options, state, file store and
 * job engine.
 *
 * @module
 */

import type { FileStore } from "./files.ts";
import type { JobEngine } from "./jobs.ts";
import type { FakeFalState } from "./state.ts";

/** Options after defaults were applied. */
export interface ResolvedOptions {
  /** Default total running time of a job, in ms. */
  jobDurationMs: number;
  /** Queue positions a job passes before IN_PROGRESS. */
  queueSteps: number;
  /** Interval of `: ping` comments on status streams, in ms. */
  pingIntervalMs: number;
  /** Accepted API keys; `undefined` accepts any non-empty key. */
  keys?: ReadonlySet<string>;
  /** Account number of each key named in an account group; other keys are accounts of their own. */
  accounts: ReadonlyMap<string, number>;
  /** Reject invalid input at queue submit (422) instead of failing the job later like fal. */
  validateOnSubmit: boolean;
  /** Bytes kept in memory per uploaded file; beyond that bytes are only counted. */
  maxKeptBytes: number;
  /** How long a result is kept after completion, in ms (fal: 1 hour). */
  resultRetentionMs: number;
  /** How long a result of 10 KB or more is kept, in ms (fal: 6 minutes). */
  largeResultRetentionMs: number;
  /** Keys with the Admin scope (the usage API answers 403 to others); all keys when absent. */
  adminKeys?: ReadonlySet<string>;
}

/** Shared state of one running fake. */
export interface FakeContext {
  /** Origin of every URL the fake hands out, without a trailing slash. */
  readonly origin: string;
  /** Resolved options. */
  readonly options: ResolvedOptions;
  /** Inspectable state. */
  readonly state: FakeFalState;
  /** Media and uploads. */
  readonly files: FileStore;
  /** Queue job engine. */
  readonly engine: JobEngine;
  /** Aborted when the fake closes. */
  readonly closing: AbortSignal;
  /** Registers a closer for an open stream; returns a function that unregisters it. */
  trackStream(close: () => void): () => void;
}

/**
 * Whether two keys belong to one fal account (so one sees the other's requests, as after a key
 * is rotated in fal's dashboard). Each key is its own account unless grouped.
 */
export function sameAccount(options: ResolvedOptions, a: string, b: string): boolean {
  if (a === b) return true;
  const account = options.accounts.get(a);
  return account !== undefined && account === options.accounts.get(b);
}
