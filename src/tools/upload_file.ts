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

/** Input schema of `upload_file`. */
export const uploadFileInput = z.object({
  path: z.string().min(1).max(4096).describe(
    "Path of a file on the machine running this server: absolute, ~/… or relative to the " +
      "server's working directory (a file:// URL also works). HTTP clients may name only files " +
      "inside the folder the operator shares (relative paths are taken inside it)",
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
    description: "Upload a local file (image, video, audio, or any other file) to fal.ai " +
      "storage and get back a public URL. Pass that URL as a model's image_url, video_url, " +
      "audio_url (or similar) input. Only needed for files on this machine: http(s) URLs can be " +
      "given to models directly. Large files are uploaded in parts; the content type comes from " +
      "the file extension.",
    inputSchema: uploadFileInput,
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
