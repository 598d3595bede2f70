/**
 * The worker side of {@linkcode makePreviewOffThread}: makes one preview per message, so
 * decoding and re-encoding a result image never holds up the server's event loop.
 *
 * Message in: `{ id, bytes, mimeType }`; message out: `{ id, preview }` (`preview` undefined when
 * none can be made) or `{ id, error }`.
 *
 * @module
 */

import { makePreview } from "./image_preview.ts";

/** The part of a worker's global scope this module uses. */
interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (event: MessageEvent) => {
  const { id, bytes, mimeType } = event.data as {
    id: number;
    bytes: Uint8Array;
    mimeType: string;
  };
  try {
    const preview = makePreview(bytes, mimeType);
    scope.postMessage(
      { id, preview },
      preview ? [preview.bytes.buffer as ArrayBuffer] : [],
    );
  } catch (error) {
    scope.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
};
