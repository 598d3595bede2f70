/**
 * Admission control for the MCP endpoints: every request being served (a long tool call
 * answered as a POST stream, an open GET stream, a quick POST) holds one slot until its response
 * body ends. A request is refused with 503 and `Retry-After` when all `maxInFlight` slots are
 * taken, or when the process's open file descriptors near its `RLIMIT_NOFILE` soft limit, so the
 * server sheds load with a clear answer instead of running out of descriptors.
 *
 * Descriptors are counted from `/proc/self/fd` (Linux), at most every {@linkcode FD_SAMPLE_MS}
 * ms while fewer than half are open and for every request above that; between counts the number
 * is estimated from the requests admitted since. Where `/proc` is not readable (macOS, Windows, no read permission) only the slot cap applies.
 *
 * @module
 */

import { JsonRpcCode } from "../errors.ts";
import { jsonRpcErrorResponse } from "../protocol/jsonrpc_error.ts";

/** How often open descriptors are counted, at most (ms). */
export const FD_SAMPLE_MS = 100;
/**
 * Descriptors one admitted request may come to hold: its own connection, plus the connections to
 * fal a tool call opens (submit, then the status stream while it waits).
 */
export const FDS_PER_REQUEST = 3;

/** Options for {@linkcode Admission}. */
export interface AdmissionOptions {
  /** Most requests served at once. */
  maxInFlight: number;
  /** The descriptor limit; read from `/proc/self/limits` when absent (undefined if unknown). */
  fdLimit?: number | undefined;
  /** Counts open descriptors; reads `/proc/self/fd` when absent. */
  countFds?: () => number | undefined;
  /** Clock (tests). */
  now?: () => number;
}

/** A taken slot: call `release` once the response has ended. */
export type AdmissionTicket = { ok: true; release: () => void } | { ok: false; response: Response };

/** The soft `Max open files` limit from `/proc/self/limits`, or undefined when unknown. */
export function readFdLimit(): number | undefined {
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
    if (!match?.[1] || match[1] === "unlimited") return undefined;
    return Number(match[1]);
  } catch {
    return undefined;
  }
}

/** The number of open descriptors of this process, or undefined when it cannot be counted. */
export function countOpenFds(): number | undefined {
  try {
    let count = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) count++;
    return count;
  } catch (error) {
    // Out of descriptors, the directory itself cannot be opened: that is as full as it gets.
    if ((error as { code?: string }).code === "EMFILE") return Number.POSITIVE_INFINITY;
    return undefined;
  }
}

/** Descriptors kept free for the server's own needs (fal connections, files, the job store). */
export function fdReserve(limit: number): number {
  return Math.max(32, Math.ceil(limit * 0.2));
}

/** Admission control: a bounded number of requests, within the descriptor budget. */
export class Admission {
  readonly #maxInFlight: number;
  readonly #fdLimit: number | undefined;
  readonly #countFds: () => number | undefined;
  readonly #now: () => number;
  #inFlight = 0;
  #refused = 0;
  #sampledAt = Number.NEGATIVE_INFINITY;
  #sampledFds: number | undefined;
  #inFlightAtSample = 0;

  /** Creates the controller; reads the descriptor limit once. */
  constructor(options: AdmissionOptions) {
    this.#maxInFlight = options.maxInFlight;
    this.#fdLimit = "fdLimit" in options ? options.fdLimit : readFdLimit();
    this.#countFds = options.countFds ?? countOpenFds;
    this.#now = options.now ?? performance.now.bind(performance);
  }

  /** Requests holding a slot now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests refused so far. */
  get refused(): number {
    return this.#refused;
  }

  /** The descriptor limit in force, if known. */
  get fdLimit(): number | undefined {
    return this.#fdLimit;
  }

  /** Takes a slot, or answers the 503 to send instead. */
  admit(): AdmissionTicket {
    if (this.#inFlight >= this.#maxInFlight) {
      return this.#refuse(
        `Server busy: all ${this.#maxInFlight} request slots are in use; retry shortly`,
      );
    }
    if (this.#nearFdLimit()) {
      return this.#refuse(
        `Server busy: open connections are near the process's file-descriptor limit ` +
          `(${this.#fdLimit}); retry shortly`,
      );
    }
    this.#inFlight++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.#inFlight--;
      },
    };
  }

  #refuse(message: string): AdmissionTicket {
    this.#refused++;
    return {
      ok: false,
      response: jsonRpcErrorResponse(503, JsonRpcCode.InternalError, message, {
        "retry-after": "1",
        // Hand the connection (and its descriptor) back at once.
        connection: "close",
      }),
    };
  }

  #nearFdLimit(): boolean {
    if (this.#fdLimit === undefined) return false;
    const now = this.#now();
    // Far from the limit a count every FD_SAMPLE_MS is plenty; past half of it, every request
    // counts again (connections accepted but not yet admitted hold descriptors too).
    if (this.#estimate() * 2 > this.#fdLimit || now - this.#sampledAt >= FD_SAMPLE_MS) {
      this.#sampledAt = now;
      this.#sampledFds = this.#countFds();
      this.#inFlightAtSample = this.#inFlight;
    }
    if (this.#sampledFds === undefined) return false;
    return this.#estimate() + FDS_PER_REQUEST > this.#fdLimit - fdReserve(this.#fdLimit);
  }

  /** Descriptors open now, as last counted plus what requests admitted since may open. */
  #estimate(): number {
    const admittedSince = Math.max(0, this.#inFlight - this.#inFlightAtSample);
    return (this.#sampledFds ?? 0) + FDS_PER_REQUEST * admittedSince;
  }
}
