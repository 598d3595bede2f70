/**
 * Reading a job's result without letting its size decide the server's memory. Up to the cap
 * the body is parsed as JSON (or kept as text, like any fal answer). Over the cap the rest is
 * streamed past, never held: what is kept is the result's `http(s)` media URLs (a bounded
 * number, found by scanning for `"url": "…"` as the bytes go by) and a note saying the rest was
 * cut, so a paid-for result still leads to its files.
 *
 * @example
 * ```ts
 * import { readBoundedResult } from "./bounded_result.ts";
 *
 * declare const response: Response;
 * const result = await readBoundedResult(response, 16 * 1024 * 1024);
 * ```
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";

/** Most media URLs kept from a cut result. */
export const MAX_KEPT_URLS = 1000;

/** Longest URL kept from a cut result (longer ones are skipped). */
const MAX_URL_CHARS = 8192;

/** What a result over the cap is recorded as. */
export interface CutResult {
  /** Says what was cut and why. */
  truncated: string;
  /** Bytes of the result read (all of it, unless it went on past the scan limit). */
  result_bytes: number;
  /** The media files found, each `{url}`, in order. */
  files: { url: string }[];
}

function parse(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Finds `"url": "http…"` pairs in text arriving in pieces; keeps a bounded tail between them. */
class UrlScanner {
  readonly urls: string[] = [];
  #carry = "";
  static readonly #pattern = /"url"\s*:\s*"((?:[^"\\]|\\.){1,8192})"/g;

  push(text: string): void {
    const buffer = this.#carry + text;
    const pattern = UrlScanner.#pattern;
    pattern.lastIndex = 0;
    let end = 0;
    for (let match; (match = pattern.exec(buffer)) !== null;) {
      end = pattern.lastIndex;
      if (this.urls.length >= MAX_KEPT_URLS) continue;
      let url: string;
      try {
        url = JSON.parse(`"${match[1]}"`);
      } catch {
        continue;
      }
      if (/^https?:\/\//i.test(url) && url.length <= MAX_URL_CHARS) this.urls.push(url);
    }
    // Keep enough of the tail for a pair split across pieces, but never what was matched.
    this.#carry = buffer.slice(Math.max(end, buffer.length - (MAX_URL_CHARS + 64)));
  }
}

/**
 * The parsed body of `response` when it holds at most `maxBytes` bytes; otherwise a
 * {@linkcode CutResult} with its media URLs. Reading stops (and the body is cancelled) after
 * `scanLimitBytes` (default 1 GiB) in any case.
 */
export async function readBoundedResult(
  response: Response,
  maxBytes: number,
  scanLimitBytes = 1024 * 1024 * 1024,
): Promise<unknown> {
  if (!response.body) return undefined;
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let scanner: UrlScanner | undefined;
  let decoder: TextDecoder | undefined;
  let complete = true;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (!scanner && total <= maxBytes) {
        chunks.push(value);
        continue;
      }
      if (!scanner) {
        scanner = new UrlScanner();
        decoder = new TextDecoder();
        for (const chunk of chunks) scanner.push(decoder.decode(chunk, { stream: true }));
        chunks.length = 0;
      }
      scanner.push(decoder!.decode(value, { stream: true }));
      if (total >= scanLimitBytes) {
        complete = false;
        await reader.cancel();
        break;
      }
    }
  } finally {
    reader.releaseLock();
  }
  if (!scanner) return parse(new TextDecoder().decode(concatBytes(chunks)));
  const files = scanner.urls.map((url) => ({ url }));
  const cut: CutResult = {
    truncated: `fal's result was ${complete ? "" : "over "}${total} bytes, more than this ` +
      `server keeps (--max-result-bytes ${maxBytes}): only its media URLs are kept` +
      (files.length >= MAX_KEPT_URLS ? ` (the first ${MAX_KEPT_URLS})` : "") +
      ", the rest was cut.",
    result_bytes: total,
    files,
  };
  return cut;
}
