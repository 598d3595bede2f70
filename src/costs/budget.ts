/**
 * A daily spend ledger per caller: the estimated cost of every run the server submitted for a
 * job owner, summed per UTC day. In process (a restart starts the day's count again); fal's own
 * usage report (`get_usage`) stays the record of what was billed.
 *
 * @module
 */

/** Estimated spend per owner per UTC day. */
export class SpendLedger {
  readonly #days = new Map<string, { day: string; usd: number }>();
  readonly #now: () => Date;

  /** A ledger; `now` is the clock (for tests). */
  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
  }

  #today(): string {
    return this.#now().toISOString().slice(0, 10);
  }

  /** What `owner` spent today (estimated US dollars). */
  spent(owner: string): number {
    const entry = this.#days.get(owner);
    return entry && entry.day === this.#today() ? entry.usd : 0;
  }

  /** Adds a run's estimate to today's spend of `owner`. */
  add(owner: string, usd: number): void {
    const today = this.#today();
    const entry = this.#days.get(owner);
    const base = entry && entry.day === today ? entry.usd : 0;
    this.#days.set(owner, { day: today, usd: base + usd });
    // Yesterday's entries of other owners are dropped as the day turns, so the map stays small.
    if (this.#days.size > 10_000) {
      for (const [key, value] of this.#days) if (value.day !== today) this.#days.delete(key);
    }
  }
}
