/**
 * The registry of live 2025-era Streamable HTTP sessions: bounded in number, and reaped when
 * idle, because many clients never send DELETE. A session is busy (never reaped) while one of
 * its requests or streams is open; it is idle from the moment the last one ends.
 *
 * @module
 */

import type { Logger } from "../log.ts";

/** What the registry needs of a session. */
export interface ManagedSession {
  /** The `Mcp-Session-Id`. */
  readonly id: string;
  /** Ends the session (closes its transport and server). */
  close(): Promise<void>;
}

interface Entry<S extends ManagedSession> {
  session: S;
  lastSeen: number;
  open: number;
}

/** Options for {@linkcode SessionRegistry}. */
export interface SessionRegistryOptions {
  /** Most sessions at once. */
  maxSessions: number;
  /** A session idle this long is ended. */
  idleTtlMs: number;
  /** How often to look for idle sessions (default: a quarter of the TTL, at most 60 s). */
  sweepIntervalMs?: number;
  /** Logger for reaped sessions. */
  logger: Logger;
  /** Clock (tests). */
  now?: () => number;
}

/** Live sessions, bounded and reaped when idle. */
export class SessionRegistry<S extends ManagedSession> {
  readonly #entries = new Map<string, Entry<S>>();
  readonly #options: SessionRegistryOptions;
  readonly #now: () => number;
  readonly #timer: ReturnType<typeof setInterval>;

  /** Starts the idle sweeper (it does not keep the process alive). */
  constructor(options: SessionRegistryOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const interval = options.sweepIntervalMs ??
      Math.min(60_000, Math.max(250, options.idleTtlMs / 4));
    this.#timer = setInterval(() => this.sweep(), interval);
    Deno.unrefTimer(Number(this.#timer));
  }

  /** Number of live sessions. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether no further session may be created. */
  get isFull(): boolean {
    return this.#entries.size >= this.#options.maxSessions;
  }

  /** Adds a session. */
  add(session: S): void {
    this.#entries.set(session.id, { session, lastSeen: this.#now(), open: 0 });
  }

  /** The session with this id, if live. */
  get(id: string): S | undefined {
    return this.#entries.get(id)?.session;
  }

  /** Forgets a session (it has ended). */
  delete(id: string): void {
    this.#entries.delete(id);
  }

  /** Marks a request or stream of the session as open; call the returned function when done. */
  open(id: string): () => void {
    const entry = this.#entries.get(id);
    if (!entry) return () => {};
    entry.open++;
    entry.lastSeen = this.#now();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      entry.open--;
      entry.lastSeen = this.#now();
    };
  }

  /** Ends every session idle for longer than the TTL; answers how many were ended. */
  sweep(): number {
    const cutoff = this.#now() - this.#options.idleTtlMs;
    let reaped = 0;
    for (const [id, entry] of this.#entries) {
      if (entry.open > 0 || entry.lastSeen > cutoff) continue;
      this.#entries.delete(id);
      reaped++;
      this.#options.logger.info("idle session ended", { session_id: id });
      entry.session.close().catch((error) =>
        this.#options.logger.warn("closing an idle session failed", { session_id: id, error })
      );
    }
    return reaped;
  }

  /** Ends every session and stops the sweeper. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    const sessions = [...this.#entries.values()].map((e) => e.session);
    this.#entries.clear();
    await Promise.allSettled(sessions.map((s) => s.close()));
  }
}
