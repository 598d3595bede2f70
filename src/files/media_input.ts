/**
 * Turning whatever a caller gave as a media input (a URL, a data URI, a local path) into a URL
 * every fal model accepts: web URLs pass through, everything else is uploaded to fal storage.
 *
 * @example
 * ```ts
 * import { resolveMediaInput } from "./media_input.ts";
 * import type { FalStorage } from "../fal/storage.ts";
 *
 * declare const storage: FalStorage;
 * const url = await resolveMediaInput("~/Pictures/cat.png", storage);
 * ```
 *
 * @module
 */

import { type FalMcpError, invalidParams } from "../errors.ts";
import { extensionForContentType, type FalStorage } from "../fal/storage.ts";
import { type LocalFileAccess, localFilePath } from "./local_files.ts";

export { resolveLocalPath } from "./local_files.ts";

function invalid(message: string, cause?: unknown): FalMcpError {
  return invalidParams(message, { cause });
}

/** A decoded `data:` URI. */
export interface DecodedDataUri {
  /** MIME type (without parameters); `text/plain` when the URI gives none. */
  contentType: string;
  /** The decoded bytes. */
  bytes: Uint8Array;
}

/**
 * Decodes a `data:[<type>][;base64],<data>` URI (base64 or percent-encoded). Throws a 400
 * {@linkcode FalMcpError} when it is malformed.
 */
export function decodeDataUri(uri: string): DecodedDataUri {
  const comma = uri.indexOf(",");
  if (!/^data:/i.test(uri) || comma < 0) {
    throw invalid("Invalid data URI: expected data:[<type>][;base64],<data>");
  }
  const meta = uri.slice(5, comma).split(";").map((part) => part.trim());
  const isBase64 = meta.length > 1 && meta.at(-1)?.toLowerCase() === "base64";
  const contentType = meta[0]?.toLowerCase() || "text/plain";
  const payload = uri.slice(comma + 1);
  if (isBase64) {
    const text = percentDecodeText(payload).replace(/\s+/g, "");
    try {
      return { contentType, bytes: Uint8Array.fromBase64(text) };
    } catch {
      try {
        return { contentType, bytes: Uint8Array.fromBase64(text, { alphabet: "base64url" }) };
      } catch (error) {
        throw invalid("Invalid data URI: its base64 data cannot be decoded", error);
      }
    }
  }
  return { contentType, bytes: percentDecodeBytes(payload) };
}

/** Percent-decodes only when there is something to decode (base64 rarely is encoded). */
function percentDecodeText(text: string): string {
  return text.includes("%") ? new TextDecoder().decode(percentDecodeBytes(text)) : text;
}

/** Percent-decodes to raw bytes (`%FF` is the byte 0xFF, not a UTF-8 character). */
function percentDecodeBytes(text: string): Uint8Array {
  const utf8 = new TextEncoder().encode(text);
  const out = new Uint8Array(utf8.length);
  let length = 0;
  for (let i = 0; i < utf8.length; i++) {
    const byte = utf8[i]!;
    if (byte === 0x25 && i + 2 < utf8.length) {
      const hex = String.fromCharCode(utf8[i + 1]!, utf8[i + 2]!);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        out[length++] = parseInt(hex, 16);
        i += 2;
        continue;
      }
    }
    out[length++] = byte;
  }
  return out.subarray(0, length);
}

/**
 * Resolves a media input to a URL a fal model can fetch:
 * - `http(s)://` URLs pass through unchanged;
 * - `data:` URIs are decoded and uploaded;
 * - `file://` URLs and local paths (absolute, `~/…`, or relative to the cwd) are uploaded, when
 *   `options.access` lets the caller name server-side files (default: any file, as for stdio).
 *
 * Anything else (another URL scheme, an empty string) is refused with a 400
 * {@linkcode FalMcpError} listing the accepted forms.
 */
export async function resolveMediaInput(
  value: string,
  storage: FalStorage,
  signal?: AbortSignal,
  options: { access?: LocalFileAccess } = {},
): Promise<string> {
  const input = value.trim();
  if (/^https?:\/\//i.test(input)) return input;
  if (/^data:/i.test(input)) {
    const decoded = decodeDataUri(input);
    const name = `upload.${extensionForContentType(decoded.contentType) ?? "bin"}`;
    return (await storage.uploadBytes(decoded.bytes, decoded.contentType, name, signal)).url;
  }
  const path = await localFilePath(input, options.access ?? { kind: "any" });
  return (await storage.uploadFile(path, signal)).url;
}
