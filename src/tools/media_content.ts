/**
 * Turning a model's output into MCP content: every media file becomes a resource link (URL, type,
 * size, dimensions) and the JSON itself is returned with embedded data URIs elided, so a client
 * never receives megabytes of base64 it cannot use. Finding the files is `files/media_files.ts`.
 *
 * @module
 */

import type { ContentBlock } from "@modelcontextprotocol/server";
import { elideDataUris, findMediaFiles, type MediaFile } from "../files/media_files.ts";

const MAX_TEXT_CHARS = 20_000;

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
