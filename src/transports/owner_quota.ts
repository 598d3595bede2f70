/**
 * A per-caller share of a bounded resource (sessions): one caller may hold at most `max` at
 * once, so no single token can take every session of the server.
 *
 * @module
 */

/** Counts what each owner holds, bounded per owner. */
export class OwnerQuota {
  readonly #max: number;
  readonly #held = new Map<string, number>();

  /** Allows each owner at most `max` (unbounded when `Infinity`). */
  constructor(max: number = Number.POSITIVE_INFINITY) {
    this.#max = max;
  }

  /** The per-owner cap. */
  get max(): number {
    return this.#max;
  }

  /** How many `owner` holds now. */
  held(owner: string): number {
    return this.#held.get(owner) ?? 0;
  }

  /**
   * Takes one for `owner`; answers the function that gives it back (idempotent), or undefined
   * when the owner already holds its share.
   */
  take(owner: string): (() => void) | undefined {
    const held = this.held(owner);
    if (held >= this.#max) return undefined;
    this.#held.set(owner, held + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const now = this.held(owner) - 1;
      if (now <= 0) this.#held.delete(owner);
      else this.#held.set(owner, now);
    };
  }
}
