/**
 * Result previews made off the event loop. Decoding a 1024×768 JPEG and encoding its preview
 * takes 100–300 ms of pure JavaScript; on the server's one event loop a burst of image results
 * would stall every other request (health checks included) for seconds. Here previews are made
 * by up to {@linkcode MAX_PREVIEW_WORKERS} workers (never more than the machine's cores minus
 * one, at least one), started on first use and stopped after {@linkcode PREVIEW_WORKER_IDLE_MS}
 * without work. Where a worker cannot start (a bundle or binary that does not ship the worker
 * file), previews are made on the event loop as before.
 *
 * @example
 * ```ts ignore
 * import { makePreviewOffThread } from "./preview_pool.ts";
 * declare const jpeg: Uint8Array;
 * const preview = await makePreviewOffThread(jpeg, "image/jpeg");
 * ```
 *
 * @module
 */

import type { ImagePreview } from "./image_preview.ts";

/** Most preview workers at once. */
export const MAX_PREVIEW_WORKERS = 2;
/** A worker with nothing to do for this long is stopped (ms). */
export const PREVIEW_WORKER_IDLE_MS = 30_000;

interface Job {
  id: number;
  bytes: Uint8Array;
  mimeType: string;
  resolve: (preview: ImagePreview | undefined) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  idle: ReturnType<typeof setTimeout> | undefined;
  ready: boolean;
}

const queue: Job[] = [];
const slots = new Set<Slot>();
let nextId = 0;
/** Set once a worker failed to load: previews are then made inline. */
let unavailable = false;

function workerLimit(): number {
  const cores = globalThis.navigator?.hardwareConcurrency ?? 2;
  return Math.max(1, Math.min(MAX_PREVIEW_WORKERS, cores - 1));
}

/** Makes the preview on the event loop (the codecs load on first use, not at start). */
async function inline(job: Job): Promise<void> {
  try {
    const { makePreview } = await import("./image_preview.ts");
    job.resolve(makePreview(job.bytes, job.mimeType));
  } catch (error) {
    job.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function stop(slot: Slot): void {
  clearTimeout(slot.idle);
  slots.delete(slot);
  slot.worker.terminate();
}

function spawn(): Slot | undefined {
  const url = new URL("./preview_worker.ts", import.meta.url);
  let worker: Worker;
  try {
    // A bundle or a compiled binary ships no worker file: previews are made here, without the
    // runtime reporting a worker that failed to load.
    if (url.protocol === "file:") Deno.statSync(url);
    worker = new Worker(url, { type: "module" });
  } catch {
    unavailable = true;
    return undefined;
  }
  const slot: Slot = { worker, job: undefined, idle: undefined, ready: false };
  worker.onmessage = (event: MessageEvent) => {
    slot.ready = true;
    const job = slot.job;
    slot.job = undefined;
    const data = event.data as { id: number; preview?: ImagePreview; error?: string };
    if (job && data.id === job.id) {
      if (data.error !== undefined) job.reject(new Error(data.error));
      else job.resolve(data.preview);
    }
    dispatch();
  };
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    const job = slot.job;
    slot.job = undefined;
    stop(slot);
    // A worker that never answered could not load: make previews here from now on.
    if (!slot.ready) unavailable = true;
    if (job) void inline(job);
    dispatch();
  };
  slots.add(slot);
  return slot;
}

function dispatch(): void {
  while (queue.length) {
    if (unavailable) {
      void inline(queue.shift()!);
      continue;
    }
    let slot = [...slots].find((s) => !s.job);
    if (!slot && slots.size < workerLimit()) {
      slot = spawn();
      if (!slot) continue; // no worker can start: the loop makes this preview here
    }
    if (!slot) return;
    const job = queue.shift()!;
    clearTimeout(slot.idle);
    slot.idle = undefined;
    slot.job = job;
    slot.worker.postMessage({ id: job.id, bytes: job.bytes, mimeType: job.mimeType });
  }
  for (const slot of slots) {
    if (slot.job || slot.idle !== undefined) continue;
    slot.idle = setTimeout(() => stop(slot), PREVIEW_WORKER_IDLE_MS);
    Deno.unrefTimer(slot.idle);
  }
}

/**
 * {@linkcode makePreview} on a worker: the same preview, or `undefined` when none can be made.
 * Previews wait their turn for a free worker, in order.
 */
export function makePreviewOffThread(
  bytes: Uint8Array,
  mimeType: string,
): Promise<ImagePreview | undefined> {
  const { promise, resolve, reject } = Promise.withResolvers<ImagePreview | undefined>();
  queue.push({ id: nextId++, bytes, mimeType, resolve, reject });
  dispatch();
  return promise;
}

/** Stops every preview worker now (previews asked for later start new ones). */
export function stopPreviewWorkers(): void {
  for (const slot of slots) stop(slot);
}
