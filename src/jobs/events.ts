/**
 * Job change events: one in-process source every live view (resource subscriptions, task
 * notifications, list-changed notices) listens to. The job manager publishes a record each time
 * it is created or changes; listeners filter by owner themselves.
 *
 * @module
 */

import type { JobRecord, JobStatus } from "./types.ts";

/** What happened to a job. */
export type JobEventKind = "created" | "updated";

/** One change of one job. */
export interface JobEvent {
  /** `created` when first recorded, `updated` on every later change. */
  kind: JobEventKind;
  /** The record as it now stands. */
  record: JobRecord;
  /** The status before this change (`updated` events). */
  previous?: JobStatus | undefined;
}

/** A listener of job events. */
export type JobEventListener = (event: JobEvent) => void;

/** Publishes job events to listeners; a throwing listener never stops the others. */
export class JobEvents {
  readonly #listeners = new Set<JobEventListener>();

  /** Adds a listener; answers the function that removes it. */
  subscribe(listener: JobEventListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Delivers an event to every listener. */
  publish(event: JobEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own; the others still hear of the change.
      }
    }
  }

  /** How many listeners are registered. */
  get size(): number {
    return this.#listeners.size;
  }
}
