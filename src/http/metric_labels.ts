/**
 * Metric label values taken from a request, mapped onto fixed sets so that no caller can add a
 * time series (and grow `/metrics` and memory) by sending an odd method or path: anything
 * outside the set is counted as `other`.
 *
 * @module
 */

const METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
]);

/** The HTTP method as a metric label: one of the standard methods, or `other`. */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : "other";
}

/** The HTTP status as a metric label: a real status code (100–599), or `other`. */
export function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : "other";
}
