/**
 * Turning a model's output into MCP content: every media file becomes a resource link (URL, type,
 * size, dimensions) and the JSON itself is returned with embedded data URIs elided, so a client
 * never receives megabytes of base64 it cannot use.
 *
 * @module
 */

import type { ContentBlock } from "@modelcontextprotocol/server";
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

const MAX_TEXT_CHARS = 20_000;

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

function fileName(file: MediaFile): string {
  if (file.fileName) return file.fileName;
  if (file.url.startsWith("data:")) return file.path;
  try {
    return decodeURIComponent(new URL(file.url).pathname.split("/").pop() || file.path);
  } catch {
    return file.path;
  }
}

function describe(file: MediaFile): string {
  const facts = [file.contentType];
  if (file.width && file.height) facts.push(`${file.width}x${file.height}`);
  if (file.fileSize !== undefined) facts.push(`${file.fileSize} bytes`);
  return `${file.path}: ${facts.filter(Boolean).join(", ")}`;
}

/**
 * MCP content for a model output: a summary, the (elided) JSON, and one link per media file
 * (`files`, found in the output unless given).
 */
export function outputContent(
  summary: string,
  output: unknown,
  files: MediaFile[] = findMediaFiles(output),
): ContentBlock[] {
  let json = JSON.stringify(elideDataUris(output), null, 2);
  if (json.length > MAX_TEXT_CHARS) {
    json = `${json.slice(0, MAX_TEXT_CHARS)}\n… (output truncated at ${MAX_TEXT_CHARS} characters)`;
  }
  const lines = [summary];
  for (const file of files) {
    lines.push(`- ${describe(file)}: ${file.url.startsWith("data:") ? "(inline data)" : file.url}`);
  }
  const blocks: ContentBlock[] = [
    { type: "text", text: lines.join("\n") },
    { type: "text", text: json },
  ];
  for (const file of files) {
    if (file.url.startsWith("data:")) continue;
    const link: ContentBlock = {
      type: "resource_link",
      uri: file.url,
      name: fileName(file),
      description: describe(file),
    };
    if (file.contentType) link.mimeType = file.contentType;
    if (file.fileSize !== undefined) link.size = file.fileSize;
    blocks.push(link);
  }
  return blocks;
}
