/**
 * `upload_file`: upload a local file to fal storage and answer a URL any model accepts as its
 * image, audio or video input.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { FalStorage } from "../fal/storage.ts";
import { assertLocalFilesAllowed, resolveLocalPath } from "../files/media_input.ts";
import type { Logger } from "../log.ts";
import { guarded, textResult } from "./tool_result.ts";
import { CREATES_AT_FAL } from "./annotations.ts";
import { toolSchema } from "./tool_schema.ts";
import { uploadOutput } from "./output_schemas.ts";

/** Input schema of `upload_file`. */
export const uploadFileInput = z.object({
  path: z.string().min(1).max(4096).describe(
    "Absolute, ~/… or relative to the server's folder",
  ),
});

/** What `upload_file` needs: the storage uploader and the logger. */
export interface UploadFileDeps {
  /** Uploads to fal storage. */
  storage: FalStorage;
  /** The process logger. */
  logger: Logger;
  /** Whether callers may name local files (false for remote HTTP callers). */
  settings: { localFiles: boolean };
}

/** Registers `upload_file`. */
export function registerUploadFile(server: McpServer, deps: UploadFileDeps): void {
  server.registerTool("upload_file", {
    title: "Upload a file to fal",
    description: "Upload a local file to fal storage; the URL goes in a model's image_url, " +
      "audio_url… (URLs need no upload).",
    inputSchema: toolSchema(uploadFileInput),
    outputSchema: uploadOutput,
    annotations: CREATES_AT_FAL,
  }, (args, ctx) =>
    guarded("upload_file", deps, async () => {
      assertLocalFilesAllowed(deps.settings.localFiles);
      const path = resolveLocalPath(args.path);
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
