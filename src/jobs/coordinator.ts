/**
 * What a {@linkcode JobManager} needs from a cluster: a lease per followed job (so exactly one
 * instance follows it) and a channel on which every instance hears every job change (so a waiter
 * on one instance sees what another instance's follower wrote). Without a coordinator the manager
 * is a single instance, as before.
 *
 * @module
 */

import type { QueueStatus } from "../fal/types.ts";
import type { JobRecord, JobStatus } from "./types.ts";

/** The right to follow one job, held by one instance at a time. */
export interface JobLease {
  /** Aborts when the lease is lost (another instance may now follow the job): stop following. */
  readonly signal: AbortSignal;
  /** Gives the lease up (the job is final, or this instance stops). */
  release(): Promise<void>;
}

/** One change of a job, as published to every instance. */
export interface JobUpdate {
  /** The record as written. */
  record: JobRecord;
  /** fal's status that caused it, when one did (for progress). */
  status?: QueueStatus | undefined;
  /** The job was first recorded by this change. */
  created?: boolean | undefined;
  /** The job's status before this change. */
  previous?: JobStatus | undefined;
}

/** Leases and change notifications shared by the instances of a cluster. */
export interface JobCoordinator {
  /** Takes the lease of a job when no instance holds it; `undefined` when another one does. */
  acquire(id: string): Promise<JobLease | undefined>;
  /** Tells every other instance that a job changed. */
  publish(update: JobUpdate): Promise<void>;
  /** Calls `listener` with every change other instances publish; answers an unsubscribe. */
  onUpdate(listener: (update: JobUpdate) => void): () => void;
}
