/**
 * The tool calls (and job waits) under way in this process, counted explicitly: each call
 * enters before it starts and leaves when it ends, and graceful shutdown waits for the count to
 * reach zero. The server owns one counter and hands it to every caller's tools; the
 * `fal_mcp_tool_calls_in_flight` gauge reports it, never the other way round.
 *
 * @example
 * ```ts
 * import { CallsInFlight } from "./calls_in_flight.ts";
 *
 * const calls = new CallsInFlight();
 * const answer = calls.hold(async () => "done");
 * calls.count; // 1 while the call runs
 * await answer;
 * await calls.idle(1000); // true: nothing under way
 * ```
 *
 * @module
 */

/** A count of calls under way, with a wait for it to reach zero. */
export class CallsInFlight {
  #count = 0;
  #idle: Array<() => void> = [];

  /** Calls under way now. */
  get count(): number {
    return this.#count;
  }

  /** Counts one call in; the function returned counts it out (once, however often called). */
  enter(): () => void {
    this.#count++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#count--;
      if (this.#count === 0) {
        const waiters = this.#idle;
        this.#idle = [];
        for (const resolve of waiters) resolve();
      }
    };
  }

  /** Runs `fn` counted among the calls under way. */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    const leave = this.enter();
    try {
      return await fn();
    } finally {
      leave();
    }
  }

  /** Resolves true once no call is under way, or false when `timeoutMs` passed first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    const { promise, resolve } = Promise.withResolvers<boolean>();
    const timer = setTimeout(() => {
      this.#idle = this.#idle.filter((waiter) => waiter !== done);
      resolve(false);
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    this.#idle.push(done);
    return promise;
  }
}
