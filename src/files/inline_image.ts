/**
 * Inlining small images into a tool result as MCP image content, so a client can show (and a
 * model can see) them without fetching the URL. Bounded: nothing over the cap is ever held in
 * memory beyond the chunk that crossed it.
 *
 * @example
 * ```ts
 * import { inlineImage } from "./inline_image.ts";
 * import type { MediaFile } from "./media_files.ts";
 * import type { MediaFetcher } from "./media_fetch.ts";
 *
 * declare const file: MediaFile;
 * declare const media: MediaFetcher;
 * // undefined when not an image, too big, or not on fal's media hosts
 * const block = await inlineImage(file, 1024 * 1024, media.fetch);
 * ```
 *
 * @module
 */

import type { ImageContent } from "@modelcontextprotocol/server";
import type { MediaFile } from "./media_files.ts";
import { decodeDataUri } from "./media_input.ts";
import { concatBytes } from "../bytes.ts";

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return !!signal?.aborted ||
    (error instanceof DOMException && error.name === "AbortError");
}

/** Reads a body up to `maxBytes`; `undefined` (body cancelled) as soon as it goes over. */
async function readCapped(
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > maxBytes) {
        await reader.cancel();
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return concatBytes(chunks);
}

/** Base64 length of the decoded size `maxBytes`, to refuse huge data URIs before decoding. */
function base64Chars(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/**
 * An MCP image content block for an `image/*` media file of at most `maxBytes` bytes, or
 * `undefined` when it is not an image, `maxBytes` is 0, the file is (or turns out to be) larger
 * than the cap, or the download fails or is refused; the caller still has the file's URL.
 * `fetchImpl` is the server's guarded media fetch (`MediaFetcher.fetch`). Cancelling `signal`
 * rejects with its reason.
 */
export async function inlineImage(
  file: MediaFile,
  maxBytes: number,
  fetchImpl: typeof fetch,
  signal?: AbortSignal,
): Promise<ImageContent | undefined> {
  const mimeType = file.contentType?.split(";")[0]?.trim().toLowerCase();
  if (!mimeType?.startsWith("image/") || !(maxBytes > 0)) return undefined;
  if (file.fileSize !== undefined && file.fileSize > maxBytes) return undefined;

  if (file.url.startsWith("data:")) {
    const payloadChars = file.url.length - file.url.indexOf(",") - 1;
    // Percent-encoded data can be up to 3 characters per byte, base64 4 per 3 bytes.
    if (payloadChars > Math.max(base64Chars(maxBytes), 3 * maxBytes) + 16) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = decodeDataUri(file.url).bytes;
    } catch {
      return undefined;
    }
    if (bytes.length > maxBytes) return undefined;
    return { type: "image", data: bytes.toBase64(), mimeType };
  }
  if (!/^https?:\/\//i.test(file.url)) return undefined;

  let response: Response;
  try {
    response = await fetchImpl(file.url, { signal: signal ?? null });
  } catch (error) {
    if (isAbort(error, signal)) throw signal?.reason ?? error;
    return undefined;
  }
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (!response.ok || !response.body || declared > maxBytes) {
    await response.body?.cancel();
    return undefined;
  }
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readCapped(response.body, maxBytes);
  } catch (error) {
    if (isAbort(error, signal)) throw signal?.reason ?? error;
    return undefined;
  }
  if (!bytes) return undefined;
  return { type: "image", data: bytes.toBase64(), mimeType };
}
