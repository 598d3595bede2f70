/**
 * `upload_file`: upload a local file to fal storage and answer a URL any model accepts as its
 * image, audio or video input.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { FalStorage } from "../fal/storage.ts";
import { type LocalFileAccess, localFilePath } from "../files/local_files.ts";
import type { Logger } from "../log.ts";
import { guarded, textResult } from "./tool_result.ts";
import { CREATES_AT_FAL } from "./annotations.ts";
import { toolSchema } from "./tool_schema.ts";
import { uploadOutput } from "./output_schemas.ts";

/** Input schema of `upload_file`. */
export const uploadFileInput = z.object({
  path: z.string().min(1).max(4096).describe(
    "A file on the server: absolute, ~/… or relative; over HTTP only in the shared folder",
  ),
});

/** What `upload_file` needs: the storage uploader and the logger. */
export interface UploadFileDeps {
  /** Uploads to fal storage. */
  storage: FalStorage;
  /** The process logger. */
  logger: Logger;
  /** Which server-side files callers may name (none for HTTP callers unless a folder is shared). */
  settings: { localFiles: LocalFileAccess };
}

/** Registers `upload_file`. */
export function registerUploadFile(server: McpServer, deps: UploadFileDeps): void {
  server.registerTool("upload_file", {
    title: "Upload a file to fal",
    description: "Upload a local file to fal storage, for a model's image_url, audio_url… (URLs " +
      "need none).",
    inputSchema: toolSchema(uploadFileInput),
    outputSchema: uploadOutput,
    annotations: CREATES_AT_FAL,
  }, (args, ctx) =>
    guarded("upload_file", deps, async () => {
      const path = await localFilePath(args.path, deps.settings.localFiles);
      const uploaded = await deps.storage.uploadFile(path, ctx.mcpReq.signal);
      deps.logger.info("file uploaded", {
        tool: "upload_file",
        file_name: uploaded.fileName,
        size: uploaded.size,
      });
      return textResult(
        `Uploaded ${uploaded.fileName} (${uploaded.contentType}, ${uploaded.size} bytes): ` +
          uploaded.url,
        {
          url: uploaded.url,
          content_type: uploaded.contentType,
          size: uploaded.size,
          file_name: uploaded.fileName,
        },
      );
    }));
}
