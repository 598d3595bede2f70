/**
 * Saving a model's media files to disk under the server's output directory. A per-call
 * subdirectory (`save_to`) must stay inside that directory: absolute paths, `..` segments and
 * symlinks leading elsewhere are refused. Files are streamed to disk, never overwrite anything
 * (`createNew`, with `-1`, `-2`, … added on a name clash), and get safe, bounded names.
 *
 * @example
 * ```ts
 * import { saveMediaFiles } from "./save_output.ts";
 * import { findMediaFiles } from "./media_files.ts";
 * import type { MediaFetcher } from "./media_fetch.ts";
 *
 * declare const output: unknown;
 * declare const media: MediaFetcher; // fal's media hosts only, bounded
 * const saved = await saveMediaFiles(findMediaFiles(output), "/home/me/fal-outputs", {
 *   subdir: "cats",
 *   fetch: media.fetch,
 * });
 * saved[0]?.path; // "/home/me/fal-outputs/cats/image-0.png"
 * ```
 *
 * @module
 */

import { isAbsolute, join, relative, sep } from "node:path";
import { errorMessage, FalMcpError, invalidParams } from "../errors.ts";
import { extensionForContentType } from "../fal/storage.ts";
import type { MediaFile } from "./media_files.ts";
import { decodeDataUri } from "./media_input.ts";
import { MediaNotFetchedError } from "./media_fetch.ts";

/** A media file written to disk. */
export interface SavedFile {
  /** Absolute path of the written file (symlinks in the output directory resolved). */
  path: string;
  /** Where it was downloaded from (data URIs are shortened). */
  url: string;
  /** Bytes written. */
  bytes: number;
  /** MIME type, when known. */
  contentType: string | undefined;
}

/** Options for {@linkcode saveMediaFiles}. */
export interface SaveOptions {
  /** Subdirectory of the output directory (the per-call `save_to`); created when missing. */
  subdir?: string | undefined;
  /** Prepended to every file name (joined with `-` unless it ends in `-`, `_` or `.`). */
  prefix?: string | undefined;
  /**
   * How the files are fetched: the server passes its guarded, bounded media fetch
   * (`MediaFetcher.fetch`), so only fal's media hosts are ever downloaded from.
   */
  fetch: typeof fetch;
  /** Aborts the downloads; a partly written file is removed. */
  signal?: AbortSignal | undefined;
  /**
   * Called for a file whose URL the media rules refuse (nothing was fetched); the others are
   * still saved. Without it, a refusal fails the save like any other error.
   */
  onRefused?: ((file: MediaFile, error: MediaNotFetchedError) => void) | undefined;
}

/** Longest file name written (well under the 255 bytes most file systems allow). */
const MAX_NAME_CHARS = 120;
const MAX_EXTENSION_CHARS = 10;
const MAX_SUFFIX = 10_000;

function invalid(message: string, cause?: unknown): FalMcpError {
  return invalidParams(message, { cause });
}

function escapes(subdir: string): FalMcpError {
  return invalid(
    `Cannot save to "${subdir}": it escapes the output directory. Use a relative folder name ` +
      `such as "portraits" or "2024/cats" (no "..", no absolute path).`,
  );
}

function isInside(base: string, path: string): boolean {
  const rel = relative(base, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

async function realPathOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * Checks, before a job is paid for, that its files can be saved as asked: `save_to` needs a
 * base folder (HTTP callers get one only when the operator set `--output-dir`) and must stay
 * inside it. Throws a 400 {@linkcode FalMcpError} saying why otherwise.
 */
export async function checkSaveTarget(
  baseDir: string | undefined,
  subdir: string | undefined,
): Promise<void> {
  if (subdir === undefined) return;
  if (baseDir === undefined) throw savingOff();
  await targetDirectory(baseDir, subdir);
}

/** The error for `save_to` on a server that does not save files for this caller. */
export function savingOff(): FalMcpError {
  return invalid(
    "save_to is not available: this server writes files to its disk only when its operator " +
      "sets --output-dir. Leave save_to out; the result's links are in the answer.",
  );
}

/**
 * Resolves (creating folders as needed) the directory to save into: `baseDir/subdir`, checked
 * one segment at a time so a symlink can never lead the writes outside `baseDir`.
 */
export async function targetDirectory(
  baseDir: string,
  subdir: string | undefined,
): Promise<string> {
  await Deno.mkdir(baseDir, { recursive: true });
  const base = await Deno.realPath(baseDir);
  if (subdir === undefined || subdir.trim() === "") return base;
  if (isAbsolute(subdir) || /^[\\/]/.test(subdir) || /^[A-Za-z]:/.test(subdir)) {
    throw escapes(subdir);
  }
  const segments = subdir.split(/[\\/]+/).filter((s) => s !== "" && s !== ".");
  if (segments.some((s) => s === ".." || s.includes("\0"))) throw escapes(subdir);
  let current = base;
  for (const segment of segments) {
    const next = join(current, segment);
    let real = await realPathOrUndefined(next);
    if (real === undefined) {
      try {
        await Deno.mkdir(next);
      } catch (error) {
        if (!(error instanceof Deno.errors.AlreadyExists)) {
          throw new FalMcpError(`Cannot create the folder ${segment} in the output directory`, {
            cause: error,
          });
        }
      }
      // A dangling symlink makes mkdir fail with AlreadyExists and realPath with NotFound.
      real = await realPathOrUndefined(next);
      if (real === undefined) throw escapes(subdir);
    }
    if (!isInside(base, real)) throw escapes(subdir);
    if (!(await Deno.stat(real)).isDirectory) {
      throw invalid(`Cannot save to "${subdir}": ${segment} is a file, not a folder`);
    }
    current = real;
  }
  return current;
}

/** Keeps `[A-Za-z0-9._-]`, drops leading dots and dashes, bounds the length. */
function safeName(raw: string, contentType: string | undefined): string {
  let name = raw.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._-]+/, "").replace(/_+/g, "_");
  let dot = name.lastIndexOf(".");
  let extension = dot > 0 ? name.slice(dot + 1) : "";
  if (extension.length > MAX_EXTENSION_CHARS || !/^[A-Za-z0-9]+$/.test(extension)) {
    extension = "";
    dot = -1;
  }
  let stem = dot > 0 ? name.slice(0, dot) : name;
  if (!extension && contentType) extension = extensionForContentType(contentType) ?? "";
  stem = stem.replace(/[._-]+$/, "") || "file";
  const room = MAX_NAME_CHARS - (extension ? extension.length + 1 : 0);
  name = stem.slice(0, room).replace(/[._-]+$/, "") || "file";
  return extension ? `${name}.${extension}` : name;
}

function rawName(file: MediaFile): string {
  if (file.fileName) return file.fileName;
  if (!file.url.startsWith("data:")) {
    try {
      const last = new URL(file.url).pathname.split("/").filter(Boolean).pop();
      if (last) return decodeURIComponent(last);
    } catch {
      // fall through to the output path
    }
  }
  return file.path.replace(/\[(\d+)\]/g, "-$1");
}

function withPrefix(name: string, prefix: string | undefined): string {
  if (!prefix) return name;
  return /[-_.]$/.test(prefix) ? `${prefix}${name}` : `${prefix}-${name}`;
}

function withSuffix(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf(".");
  return dot > 0 ? `${name.slice(0, dot)}-${n}${name.slice(dot)}` : `${name}-${n}`;
}

/** Creates a new file, adding `-1`, `-2`, … to the name until one does not exist yet. */
async function createUnique(
  dir: string,
  name: string,
): Promise<{ path: string; file: Deno.FsFile }> {
  for (let n = 0; n <= MAX_SUFFIX; n++) {
    const path = join(dir, withSuffix(name, n));
    try {
      return { path, file: await Deno.open(path, { write: true, createNew: true }) };
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) continue;
      throw new FalMcpError(`Cannot save ${name}: the file cannot be created`, { cause: error });
    }
  }
  throw new FalMcpError(`Cannot save ${name}: too many files with that name already exist`);
}

function shortUrl(url: string): string {
  return url.startsWith("data:") ? `${url.slice(0, url.indexOf(",") + 1)}…` : url;
}

/** Where the bytes come from: a data URI's payload or an HTTP response body. */
interface Download {
  contentType: string | undefined;
  body: ReadableStream<Uint8Array>;
}

async function openDownload(
  file: MediaFile,
  fetchImpl: typeof fetch,
  signal: AbortSignal | undefined,
): Promise<Download> {
  if (file.url.startsWith("data:")) {
    const decoded = decodeDataUri(file.url);
    return {
      contentType: file.contentType ?? decoded.contentType,
      body: new Blob([decoded.bytes as Uint8Array<ArrayBuffer>]).stream(),
    };
  }
  if (!/^https?:\/\//i.test(file.url)) {
    throw invalid(`Cannot save ${file.path}: only http(s) URLs and data URIs can be saved`);
  }
  let response: Response;
  try {
    response = await fetchImpl(file.url, { signal: signal ?? null });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (error instanceof FalMcpError) throw error; // refused by the media rules, or too large
    throw new FalMcpError(
      `Cannot save ${file.path}: the download failed (${errorMessage(error)})`,
      { status: 502, cause: error },
    );
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new FalMcpError(
      `Cannot save ${file.path}: downloading it answered ${response.status}`,
      { status: 502 },
    );
  }
  const header = response.headers.get("content-type")?.split(";")[0]?.trim() || undefined;
  return { contentType: file.contentType ?? header, body: response.body };
}

async function saveOne(
  file: MediaFile,
  dir: string,
  options: SaveOptions,
): Promise<SavedFile> {
  const download = await openDownload(file, options.fetch, options.signal);
  const name = withPrefix(safeName(rawName(file), download.contentType), options.prefix);
  let target: { path: string; file: Deno.FsFile };
  try {
    target = await createUnique(dir, safeName(name, undefined));
  } catch (error) {
    await download.body.cancel();
    throw error;
  }
  let bytes = 0;
  const count = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.length;
      controller.enqueue(chunk);
    },
  });
  try {
    await download.body.pipeThrough(count).pipeTo(target.file.writable, {
      signal: options.signal,
    });
  } catch (error) {
    try {
      target.file.close();
    } catch {
      // pipeTo already closed it
    }
    await Deno.remove(target.path).catch(() => {});
    if (options.signal?.aborted) throw options.signal.reason;
    if (error instanceof FalMcpError) {
      throw new FalMcpError(`Cannot save ${file.path}: ${error.message}`, {
        status: error.status,
        cause: error,
      });
    }
    throw new FalMcpError(
      `Cannot save ${file.path}: the download broke off (${errorMessage(error)})`,
      { status: 502, cause: error },
    );
  }
  return { path: target.path, url: shortUrl(file.url), bytes, contentType: download.contentType };
}

/**
 * Downloads each media file into `baseDir/subdir` (folders created as needed) and answers
 * where each one was written. `subdir` must stay inside `baseDir` (else a 400
 * {@linkcode FalMcpError} saying it escapes the output directory, and nothing is written).
 * Existing files are never overwritten. Files are saved one after another; if one fails, the
 * ones already saved stay and the error says which failed. A file the media rules refuse is
 * passed to `options.onRefused` (when given) and skipped.
 */
export async function saveMediaFiles(
  files: MediaFile[],
  baseDir: string,
  options: SaveOptions,
): Promise<SavedFile[]> {
  const dir = await targetDirectory(baseDir, options.subdir);
  const saved: SavedFile[] = [];
  for (const file of files) {
    try {
      saved.push(await saveOne(file, dir, options));
    } catch (error) {
      if (!(error instanceof MediaNotFetchedError) || !options.onRefused) throw error;
      options.onRefused(file, error);
    }
  }
  return saved;
}
