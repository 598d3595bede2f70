/**
 * "The job list of owner X changed": a small in-process event source. The job manager emits
 * when a caller's job is recorded or changes status (what a listing shows); transports and
 * subscriptions listen to tell that caller's clients (`notifications/resources/list_changed`).
 * Listeners never see another owner's events.
 *
 * @module
 */

/** Called when an owner's job list changed. */
export type JobListListener = () => void;

/** Job-list change events, by owner. */
export class JobListChanges {
  readonly #listeners = new Map<string, Set<JobListListener>>();

  /** Number of owners with at least one listener (tests, metrics). */
  get owners(): number {
    return this.#listeners.size;
  }

  /** Listens to `owner`'s changes; answers the function that stops listening. */
  subscribe(owner: string, listener: JobListListener): () => void {
    let set = this.#listeners.get(owner);
    if (!set) this.#listeners.set(owner, set = new Set());
    set.add(listener);
    return () => {
      const current = this.#listeners.get(owner);
      current?.delete(listener);
      if (current?.size === 0) this.#listeners.delete(owner);
    };
  }

  /** Tells `owner`'s listeners that their job list changed. A failing listener is skipped. */
  emit(owner: string): void {
    for (const listener of [...(this.#listeners.get(owner) ?? [])]) {
      try {
        listener();
      } catch {
        // one listener's failure (a closed connection) must not stop the others
      }
    }
  }
}
