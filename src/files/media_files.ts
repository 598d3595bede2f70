/**
 * The media files in a model's output: every `{url, …}` object (images, video, audio, …) found
 * with where it sits, and the output with embedded data URIs elided. Tools turn them into MCP
 * content; saving and inlining read them.
 *
 * @example
 * ```ts
 * import { findMediaFiles } from "./media_files.ts";
 *
 * const files = findMediaFiles({ images: [{ url: "https://v3.fal.media/a.png", width: 8 }] });
 * files[0]?.path; // "images[0]"
 * ```
 *
 * @module
 */

import { isRecord } from "../is_record.ts";

/** A media file found in a model's output. */
export interface MediaFile {
  /** Where the file is (an https URL, or a data URI for `sync_mode` outputs). */
  url: string;
  /** MIME type, when fal gave it. */
  contentType?: string | undefined;
  /** File name, when fal gave it. */
  fileName?: string | undefined;
  /** Size in bytes, when known. */
  fileSize?: number | undefined;
  /** Width in pixels, when known. */
  width?: number | undefined;
  /** Height in pixels, when known. */
  height?: number | undefined;
  /** Where in the output it was, e.g. `images[0]`. */
  path: string;
}

const num = (v: unknown): number | undefined => typeof v === "number" ? v : undefined;
const str = (v: unknown): string | undefined => typeof v === "string" ? v : undefined;

/** Finds every `{url, …}` file object in a model output (images, video, audio, …). */
export function findMediaFiles(output: unknown, path = ""): MediaFile[] {
  if (Array.isArray(output)) {
    return output.flatMap((item, i) => findMediaFiles(item, `${path}[${i}]`));
  }
  if (!isRecord(output)) return [];
  const url = output.url;
  if (typeof url === "string" && /^(https?:|data:)/.test(url)) {
    return [{
      url,
      contentType: str(output.content_type) ?? dataUriType(url),
      fileName: str(output.file_name),
      fileSize: num(output.file_size),
      width: num(output.width),
      height: num(output.height),
      path: path || "output",
    }];
  }
  return Object.entries(output).flatMap(([key, value]) =>
    findMediaFiles(value, path ? `${path}.${key}` : key)
  );
}

function dataUriType(url: string): string | undefined {
  return url.startsWith("data:") ? url.slice(5).split(/[;,]/)[0] || undefined : undefined;
}

/** Copies an output with every data URI replaced by a short placeholder. */
export function elideDataUris(value: unknown): unknown {
  if (typeof value === "string") {
    return value.startsWith("data:") && value.length > 200
      ? `${value.slice(0, value.indexOf(",") + 1)}… (${value.length} characters elided)`
      : value;
  }
  if (Array.isArray(value)) return value.map(elideDataUris);
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, elideDataUris(v)]));
  }
  return value;
}
