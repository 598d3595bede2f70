/**
 * The one check for "a JSON object" (a plain record, not null, not an array), used wherever
 * untrusted JSON (fal's answers, schemas, tool input) is read.
 *
 * @module
 */

/** Whether `value` is an object with string keys (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === "object" && !Array.isArray(value);
}
