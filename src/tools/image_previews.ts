/**
 * The inline images of a tool result: for each result image, a downscaled JPEG preview (see
 * {@linkcode makePreviewOffThread}) rather than the full file, within a byte budget for the whole result.
 * The full-resolution file stays a resource link; what the download taught (size, dimensions)
 * is written back onto the file so the link can say it.
 *
 * @module
 */

import type { ImageContent } from "@modelcontextprotocol/server";
import { inlineImage } from "../files/inline_image.ts";
import { imageSize } from "../files/image_size.ts";
import { makePreviewOffThread } from "../files/preview_pool.ts";
import type { MediaFile } from "../files/media_files.ts";

/** Images up to this size are downloaded to make a preview; larger ones are only linked. */
export const PREVIEW_SOURCE_MAX_BYTES = 8 * 1024 * 1024;

/** An image no preview can be made of (e.g. WebP, GIF) is inlined as is up to this size. */
export const AS_IS_MAX_BYTES = 64 * 1024;

/** One inlined image. */
export interface InlinedImage {
  /** The file it shows. */
  file: MediaFile;
  /** The content block. */
  block: ImageContent;
  /** The line that tells the model what it is looking at. */
  line: string;
}

/**
 * Previews of the image files among `files`, at most `budgetBytes` of image data in all (0
 * inlines nothing) and at most `maxCount` of them. Fills in `fileSize`, `width` and `height` on each file it downloaded.
 * Cancelling `signal` rejects with its reason; any other failure just leaves a file unpreviewed.
 */
export async function imagePreviews(
  files: MediaFile[],
  budgetBytes: number,
  signal?: AbortSignal,
  fetchImpl: typeof fetch = fetch,
  maxCount: number = Infinity,
): Promise<InlinedImage[]> {
  const inlined: InlinedImage[] = [];
  let remaining = budgetBytes;
  for (const file of files) {
    if (!(remaining > 0) || inlined.length >= maxCount) break;
    if (!file.contentType?.toLowerCase().startsWith("image/")) continue;
    let full: ImageContent | undefined;
    try {
      full = await inlineImage(file, PREVIEW_SOURCE_MAX_BYTES, fetchImpl, signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      continue;
    }
    if (!full) continue;
    const bytes = Uint8Array.fromBase64(full.data);
    const size = imageSize(bytes);
    file.fileSize ??= bytes.length;
    file.width ??= size?.width;
    file.height ??= size?.height;
    // Made on a worker: decoding a large image must not stall the other requests.
    const preview = await makePreviewOffThread(bytes, full.mimeType).catch(() => undefined);
    let block: ImageContent;
    let line: string;
    if (preview) {
      if (preview.bytes.length > remaining) continue;
      remaining -= preview.bytes.length;
      block = { type: "image", data: preview.bytes.toBase64(), mimeType: preview.mimeType };
      line = `${file.path}: inline preview ${preview.width}x${preview.height} JPEG ` +
        `(${preview.bytes.length} bytes); the full file is linked`;
    } else if (bytes.length <= Math.min(AS_IS_MAX_BYTES, remaining)) {
      remaining -= bytes.length;
      block = full;
      line = `${file.path}: inline as is (${bytes.length} bytes)`;
    } else {
      continue;
    }
    inlined.push({ file, block, line });
  }
  return inlined;
}
