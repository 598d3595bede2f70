/**
 * Query semantics every `JobStore` shares, so that all backends order, page and
 * validate the same way: newest first by `(createdAt, id)`, keyset pagination with an opaque
 * cursor, and the same errors for bad input.
 *
 * The cursor is the base64url (no padding) of the UTF-8 JSON array `[createdAt, id]` of the last
 * job of a page. Clients must treat it as opaque; it is validated strictly on the way back in.
 *
 * @example
 * ```ts
 * import { decodeCursor, encodeCursor } from "./query.ts";
 *
 * const cursor = encodeCursor({ createdAt: "2026-01-01T00:00:00.000Z", id: "req-1" });
 * decodeCursor(cursor); // { createdAt: "2026-01-01T00:00:00.000Z", id: "req-1" }
 * ```
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { type FalMcpError, invalidParams } from "../errors.ts";
import { JOB_STATUSES, type JobRecord } from "./types.ts";

/** A position in the newest-first order of jobs. */
export interface JobPosition {
  /** The job's `createdAt`. */
  createdAt: string;
  /** The job's id. */
  id: string;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Compares two strings by Unicode code point, which is the order SQLite's BINARY collation gives
 * UTF-8 text. (JavaScript's `<` compares UTF-16 code units, which differs above U+FFFF.)
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return (a.codePointAt(i) ?? x) - (b.codePointAt(i) ?? y);
  }
  return a.length - b.length;
}

/**
 * Orders jobs newest first: `createdAt` descending, then `id` descending. Negative when `a` comes
 * before `b`.
 */
export function compareNewestFirst(a: JobPosition, b: JobPosition): number {
  return compareCodePoints(b.createdAt, a.createdAt) || compareCodePoints(b.id, a.id);
}

/** The opaque cursor that continues a listing after `position`. */
export function encodeCursor(position: JobPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), "utf8").toString(
    "base64url",
  );
}

function invalidCursor(reason: string): FalMcpError {
  return invalidParams(
    `Invalid job list cursor: ${reason}; pass a nextCursor from a previous page`,
  );
}

/**
 * Reads a cursor made by {@linkcode encodeCursor}.
 *
 * @throws {FalMcpError} status 400, code `InvalidParams`, when the cursor is not one this server
 * made.
 */
export function decodeCursor(cursor: string): JobPosition {
  if (!BASE64URL.test(cursor)) throw invalidCursor("it is not base64url");
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(Buffer.from(cursor, "base64url")));
  } catch {
    throw invalidCursor("it does not decode");
  }
  if (
    !Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== "string" ||
    typeof parsed[1] !== "string"
  ) {
    throw invalidCursor("it does not name a job position");
  }
  const position: JobPosition = { createdAt: parsed[0], id: parsed[1] };
  // Only canonical encodings are accepted, so one position has exactly one cursor.
  if (encodeCursor(position) !== cursor) throw invalidCursor("it is not in canonical form");
  return position;
}

/**
 * Checks a page size.
 *
 * @throws {FalMcpError} status 400, code `InvalidParams`, unless `limit` is a positive integer.
 */
export function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw invalidParams(`Invalid job list limit ${limit}: it must be a positive integer`);
  }
  return limit;
}

/**
 * Checks that a record can be stored: a non-empty id, owner and endpoint, a known status and
 * string timestamps.
 *
 * @throws {TypeError} naming the field that is wrong.
 */
export function checkRecord(job: JobRecord): void {
  const strings = ["id", "owner", "endpointId", "createdAt", "updatedAt"] as const;
  for (const field of strings) {
    const value: unknown = job[field];
    if (typeof value !== "string" || value === "") {
      throw new TypeError(`Cannot store job: ${field} must be a non-empty string`);
    }
  }
  if (!JOB_STATUSES.includes(job.status)) {
    throw new TypeError(`Cannot store job ${job.id}: unknown status ${String(job.status)}`);
  }
}

/** The error every store throws when used after `JobStore.close`. */
export function closedStoreError(): Error {
  return new Error("Cannot use the job store: it is closed");
}

/** Runs synchronous store work as a promise: a closed store or a thrown error rejects it. */
export function settle<T>(closed: boolean, work: () => T): Promise<T> {
  try {
    if (closed) throw closedStoreError();
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}
