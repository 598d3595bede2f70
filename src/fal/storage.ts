/**
 * fal storage uploads (rest.fal.ai), following fal-js: `POST /storage/upload/initiate` hands out
 * a pre-signed `upload_url` and the public `file_url`; the bytes are PUT to the upload URL.
 * Files over the multipart threshold (90 MiB, like fal-js) go up in parts:
 * `POST /storage/upload/initiate-multipart`, `PUT {upload_url}/{n}` per part, then
 * `POST {upload_url}/complete` with the parts' etags.
 *
 * Files are streamed from disk with an exact `Content-Length` (signed-URL stores refuse chunked
 * uploads), so memory stays flat whatever the file size: at most one read chunk is in flight.
 * The upload URL is never sent the fal key and never appears in error messages (it carries a
 * signature).
 *
 * @example Upload a local file
 * ```ts
 * import { FalClient } from "./client.ts";
 * import { resolveFalHosts } from "./hosts.ts";
 * import { FalStorage } from "./storage.ts";
 *
 * const hosts = resolveFalHosts();
 * const fal = new FalClient({ hosts, key: Deno.env.get("FAL_KEY") });
 * const storage = new FalStorage({ fal, hosts });
 * const uploaded = await storage.uploadFile("./cat.png");
 * uploaded.url; // usable as image_url of any model
 * ```
 *
 * @module
 */

import { basename, extname } from "node:path";
import { errorMessage, FalMcpError, invalidParams } from "../errors.ts";
import type { Logger } from "../log.ts";
import { silentLogger } from "../log.ts";
import { sleep } from "../sleep.ts";
import type { FalClient } from "./client.ts";
import { describeFalErrorBody, FalApiError } from "./errors.ts";
import type { FalHosts } from "./hosts.ts";
import { concatBytes } from "../bytes.ts";

const MiB = 1024 * 1024;

/** Uploads larger than this go up in parts by default (fal-js uses the same 90 MiB). */
const DEFAULT_MULTIPART_THRESHOLD_BYTES: number = 90 * MiB;

/** Default size of one multipart part (fal-js uses 10 MiB). */
const DEFAULT_PART_SIZE_BYTES: number = 10 * MiB;

/** Most parts one multipart upload may have (the store's limit); part size grows to fit. */
const MAX_PARTS = 10_000;
/** Bytes read from disk per write to the socket. */
const READ_CHUNK_BYTES = 256 * 1024;
/** Attempts for one PUT (idempotent, so retried on network errors, 429 and 5xx). */
const PUT_ATTEMPTS = 3;
const PUT_RETRY_BASE_MS = 500;
/** Most response bytes kept from the upload URL (answers are small JSON or error text). */
const MAX_ANSWER_BYTES = 64 * 1024;
const STORAGE_TYPE = "fal-cdn-v3";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  gif: "image/gif",
  bmp: "image/bmp",
  tif: "image/tiff",
  tiff: "image/tiff",
  svg: "image/svg+xml",
  mp4: "video/mp4",
  mov: "video/quicktime",
  webm: "video/webm",
  mkv: "video/x-matroska",
  avi: "video/x-msvideo",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  ogg: "audio/ogg",
  flac: "audio/flac",
  m4a: "audio/mp4",
  aac: "audio/aac",
  opus: "audio/opus",
  json: "application/json",
  txt: "text/plain",
  pdf: "application/pdf",
  zip: "application/zip",
};

/** Preferred extension per MIME type (and common aliases), the inverse of the map above. */
const EXTENSIONS: Readonly<Record<string, string>> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/jpg": "jpg",
  "image/webp": "webp",
  "image/gif": "gif",
  "image/bmp": "bmp",
  "image/tiff": "tiff",
  "image/svg+xml": "svg",
  "video/mp4": "mp4",
  "video/quicktime": "mov",
  "video/webm": "webm",
  "video/x-matroska": "mkv",
  "video/x-msvideo": "avi",
  "audio/mpeg": "mp3",
  "audio/mp3": "mp3",
  "audio/wav": "wav",
  "audio/x-wav": "wav",
  "audio/wave": "wav",
  "audio/ogg": "ogg",
  "audio/flac": "flac",
  "audio/x-flac": "flac",
  "audio/mp4": "m4a",
  "audio/x-m4a": "m4a",
  "audio/aac": "aac",
  "audio/opus": "opus",
  "application/json": "json",
  "text/plain": "txt",
  "application/pdf": "pdf",
  "application/zip": "zip",
};

/**
 * The MIME type of a file name from its extension (case-insensitive), or
 * `application/octet-stream` when the extension is unknown or missing.
 */
export function contentTypeForPath(path: string): string {
  const extension = extname(path).slice(1).toLowerCase();
  return CONTENT_TYPES[extension] ?? "application/octet-stream";
}

/**
 * The usual file extension (without the dot) of a MIME type; parameters such as `; charset=…`
 * are ignored. `undefined` for types not in the table.
 */
export function extensionForContentType(contentType: string): string | undefined {
  const essence = contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  return EXTENSIONS[essence];
}

/** A file now stored on fal's CDN. */
export interface UploadedFile {
  /** Public URL of the file; use it as any model's image/audio/video input. */
  url: string;
  /** MIME type it was uploaded with. */
  contentType: string;
  /** Size in bytes. */
  size: number;
  /** File name it was uploaded with. */
  fileName: string;
}

/** Options for {@linkcode FalStorage}. */
export interface FalStorageOptions {
  /** The fal client (auth, retries and error mapping for the storage API calls). */
  fal: FalClient;
  /** Where the fal APIs live (`rest` is used). */
  hosts: FalHosts;
  /** Uploads larger than this many bytes go up in parts (default 90 MiB). */
  multipartThresholdBytes?: number;
  /** Size of one part of a multipart upload (default 10 MiB). */
  partSizeBytes?: number;
  /** Logger for multipart progress and retries. */
  logger?: Logger;
}

/** Where the bytes of an upload come from: read back from any offset, as often as needed. */
interface UploadSource {
  /** Total size in bytes. */
  size: number;
  /**
   * Yields `length` bytes starting at `offset`. A chunk may be overwritten once the next one is
   * asked for (file reads reuse one buffer), so consume each before pulling the next.
   */
  read(offset: number, length: number): AsyncIterable<Uint8Array>;
}

/** What a pre-signed upload URL answered. */
interface PutAnswer {
  status: number;
  etag: string | undefined;
  body: unknown;
}

interface InitiateAnswer {
  uploadUrl: string;
  fileUrl: string;
}

interface PartRecord {
  partNumber: number;
  etag: string;
}

/** Uploads files and bytes to fal storage and answers their public URLs. */
export class FalStorage {
  readonly #fal: FalClient;
  readonly #hosts: FalHosts;
  readonly #threshold: number;
  readonly #partSize: number;
  readonly #log: Logger;

  /** Creates an uploader; `multipartThresholdBytes` must be >= 0 and `partSizeBytes` >= 1. */
  constructor(options: FalStorageOptions) {
    const threshold = options.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD_BYTES;
    const partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
    if (!Number.isSafeInteger(threshold) || threshold < 0) {
      throw new RangeError("Cannot create FalStorage: multipartThresholdBytes must be >= 0");
    }
    if (!Number.isSafeInteger(partSize) || partSize < 1) {
      throw new RangeError("Cannot create FalStorage: partSizeBytes must be >= 1");
    }
    this.#fal = options.fal;
    this.#hosts = options.hosts;
    this.#threshold = threshold;
    this.#partSize = partSize;
    this.#log = options.logger ?? silentLogger;
  }

  /** Uploads bytes held in memory (e.g. a decoded data URI). */
  async uploadBytes(
    bytes: Uint8Array,
    contentType: string,
    fileName: string,
    signal?: AbortSignal,
  ): Promise<UploadedFile> {
    const source: UploadSource = {
      size: bytes.length,
      async *read(offset, length) {
        for (let at = offset; at < offset + length; at += READ_CHUNK_BYTES) {
          yield bytes.subarray(at, Math.min(offset + length, at + READ_CHUNK_BYTES));
        }
      },
    };
    return await this.#upload(source, contentType, fileName, signal);
  }

  /**
   * Uploads a local file, streamed from disk (multipart above the threshold). The content type
   * comes from the extension. Fails with a 400 {@linkcode FalMcpError} when the path is missing,
   * a directory or unreadable.
   */
  async uploadFile(path: string, signal?: AbortSignal): Promise<UploadedFile> {
    const size = await readableFileSize(path);
    const source: UploadSource = { size, read: (offset, length) => readFile(path, offset, length) };
    return await this.#upload(source, contentTypeForPath(path), basename(path), signal);
  }

  async #upload(
    source: UploadSource,
    contentType: string,
    fileName: string,
    signal: AbortSignal | undefined,
  ): Promise<UploadedFile> {
    const what = `Cannot upload ${fileName}`;
    const url = source.size > this.#threshold
      ? await this.#uploadMultipart(source, contentType, fileName, what, signal)
      : await this.#uploadSingle(source, contentType, fileName, what, signal);
    return { url, contentType, size: source.size, fileName };
  }

  async #uploadSingle(
    source: UploadSource,
    contentType: string,
    fileName: string,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const target = await this.#initiate("initiate", contentType, fileName, what, signal);
    await this.#put(target.uploadUrl, source, 0, source.size, {
      what,
      contentType,
      signal,
    });
    return target.fileUrl;
  }

  async #uploadMultipart(
    source: UploadSource,
    contentType: string,
    fileName: string,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const partSize = Math.max(this.#partSize, Math.ceil(source.size / MAX_PARTS));
    const count = Math.ceil(source.size / partSize);
    const target = await this.#initiate("initiate-multipart", contentType, fileName, what, signal);
    const base = new URL(target.uploadUrl);
    // fal-js: `{upload_url}/{n}` keeps the signed URL's query string after the new segment.
    const at = (segment: string) => `${base.origin}${base.pathname}/${segment}${base.search}`;
    this.#log.debug("multipart upload started", { file_name: fileName, parts: count });
    const parts: PartRecord[] = [];
    for (let partNumber = 1; partNumber <= count; partNumber++) {
      const offset = (partNumber - 1) * partSize;
      const length = Math.min(partSize, source.size - offset);
      const answer = await this.#put(at(String(partNumber)), source, offset, length, {
        what: `${what}: part ${partNumber} of ${count}`,
        signal,
      });
      const body = answer.body as { etag?: unknown } | undefined;
      const etag = typeof body?.etag === "string" ? body.etag : answer.etag;
      if (!etag) {
        throw new FalApiError(`${what}: part ${partNumber} was stored without an etag`, {
          falStatus: answer.status,
          body: answer.body,
        });
      }
      parts.push({ partNumber, etag });
    }
    await this.#fal.request({
      method: "POST",
      url: at("complete"),
      what: `${what}: completing the multipart upload failed`,
      retry: "write",
      auth: "none",
      body: { parts },
      signal,
    });
    this.#log.debug("multipart upload completed", { file_name: fileName, parts: count });
    return target.fileUrl;
  }

  async #initiate(
    kind: "initiate" | "initiate-multipart",
    contentType: string,
    fileName: string,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<InitiateAnswer> {
    const body = await this.#fal.request({
      method: "POST",
      url: `${this.#hosts.rest}/storage/upload/${kind}?storage_type=${STORAGE_TYPE}`,
      what,
      retry: "submit",
      auth: "required",
      body: { content_type: contentType, file_name: fileName },
      signal,
    }) as { upload_url?: unknown; file_url?: unknown } | undefined;
    const uploadUrl = body?.upload_url;
    const fileUrl = body?.file_url;
    if (typeof uploadUrl !== "string" || typeof fileUrl !== "string" || !isHttpUrl(uploadUrl)) {
      throw new FalApiError(`${what}: fal answered without an upload URL and file URL`, {
        falStatus: 200,
        body,
      });
    }
    return { uploadUrl, fileUrl };
  }

  /** PUTs `length` bytes of `source` from `offset`, retrying what is safe to retry. */
  async #put(
    url: string,
    source: UploadSource,
    offset: number,
    length: number,
    options: { what: string; contentType?: string; signal: AbortSignal | undefined },
  ): Promise<PutAnswer> {
    const headers: Record<string, string> = {};
    if (options.contentType) headers["content-type"] = options.contentType;
    for (let attempt = 1;; attempt++) {
      let answer: PutAnswer;
      try {
        answer = await putStreamed(url, {
          headers,
          length,
          body: () => source.read(offset, length),
          signal: options.signal,
        });
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        if (error instanceof FalMcpError) throw error; // the file itself failed: not retryable
        if (attempt < PUT_ATTEMPTS) {
          await this.#backoff(options, attempt, `network error: ${errorMessage(error)}`);
          continue;
        }
        throw new FalApiError(
          `${options.what}: the upload URL could not be reached (${errorMessage(error)})`,
          { falStatus: 0, cause: error },
        );
      }
      if (answer.status >= 200 && answer.status < 300) return answer;
      const retryable = answer.status === 429 || answer.status >= 500;
      if (retryable && attempt < PUT_ATTEMPTS) {
        await this.#backoff(options, attempt, `HTTP ${answer.status}`);
        continue;
      }
      const detail = describeFalErrorBody(answer.body) ?? "no detail";
      throw new FalApiError(
        `${options.what}: the upload URL answered ${answer.status}: ${detail}`,
        { falStatus: answer.status, body: answer.body },
      );
    }
  }

  async #backoff(
    options: { what: string; signal: AbortSignal | undefined },
    attempt: number,
    reason: string,
  ): Promise<void> {
    const delay = PUT_RETRY_BASE_MS * 2 ** (attempt - 1);
    this.#log.warn("upload retried", { what: options.what, reason, attempt, delay_ms: delay });
    await sleep(delay, options.signal);
  }
}

function isHttpUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

function cannotUpload(path: string, why: string, cause?: unknown): FalMcpError {
  return invalidParams(`Cannot upload ${path}: ${why}`, { cause });
}

/** The size of a regular, readable file; a clear 400 error otherwise. */
async function readableFileSize(path: string): Promise<number> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    throw fileError(path, error);
  }
  if (info.isDirectory) throw cannotUpload(path, "it is a directory, not a file");
  if (!info.isFile) throw cannotUpload(path, "it is not a regular file");
  try {
    (await Deno.open(path, { read: true })).close();
  } catch (error) {
    throw fileError(path, error);
  }
  return info.size;
}

function fileError(path: string, error: unknown): FalMcpError {
  if (error instanceof Deno.errors.NotFound) return cannotUpload(path, "no such file", error);
  if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
    return cannotUpload(path, "permission denied", error);
  }
  return cannotUpload(path, `the file cannot be read (${errorMessage(error)})`, error);
}

/**
 * Reads `length` bytes of a file from `offset` through one reused buffer: each chunk is only
 * valid until the next is pulled. Reusing it keeps memory flat; fresh buffers per chunk pile up
 * as garbage outside the V8 heap (~70 MB for a large upload) until a collection runs.
 */
async function* readFile(
  path: string,
  offset: number,
  length: number,
): AsyncGenerator<Uint8Array> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw fileError(path, error);
  }
  try {
    if (offset > 0) await file.seek(offset, Deno.SeekMode.Start);
    const buffer = new Uint8Array(Math.min(READ_CHUNK_BYTES, length));
    let remaining = length;
    while (remaining > 0) {
      const chunk = remaining < buffer.length ? buffer.subarray(0, remaining) : buffer;
      const read = await file.read(chunk);
      if (read === null) throw cannotUpload(path, "the file got shorter while it was uploading");
      remaining -= read;
      yield read === chunk.length ? chunk : chunk.subarray(0, read);
    }
  } finally {
    file.close();
  }
}

/**
 * PUTs a body of known length with an exact `Content-Length`. `fetch` turns every stream body
 * into a chunked upload, which pre-signed object-store URLs refuse, so this speaks HTTP through
 * `node:http(s)`, writing one chunk at a time and waiting until it is written before pulling the
 * next (so the source may reuse its buffer).
 */
async function putStreamed(
  url: string,
  init: {
    headers: Record<string, string>;
    length: number;
    body: () => AsyncIterable<Uint8Array>;
    signal: AbortSignal | undefined;
  },
): Promise<PutAnswer> {
  const target = new URL(url);
  if (target.protocol !== "https:" && target.protocol !== "http:") {
    throw new Error(`unsupported URL scheme ${target.protocol}`);
  }
  // node:http(s) load only for the uploads that need them, not at every start.
  const send = target.protocol === "https:"
    ? (await import("node:https")).request
    : (await import("node:http")).request;
  init.signal?.throwIfAborted();

  return await new Promise<PutAnswer>((resolve, reject) => {
    let settled = false;
    let responded = false;
    let sent = false;
    const finish = (error: unknown, answer?: PutAnswer) => {
      if (settled) return;
      settled = true;
      init.signal?.removeEventListener("abort", onAbort);
      if (answer) resolve(answer);
      else reject(error);
    };
    const req = send(target, {
      method: "PUT",
      agent: false, // one connection per PUT, closed after: nothing lingers between uploads
      headers: { ...init.headers, "content-length": String(init.length) },
    }, (res) => {
      responded = true; // an early answer (e.g. 403) wins over the write it interrupted
      const chunks: Uint8Array[] = [];
      let kept = 0;
      res.on("data", (chunk: Uint8Array) => {
        if (kept >= MAX_ANSWER_BYTES) return;
        chunks.push(chunk);
        kept += chunk.length;
      });
      res.on("error", (error: Error) => finish(error));
      res.on("end", () => {
        if (!sent) req.destroy(); // answered before the whole body went out: stop sending
        const text = new TextDecoder().decode(concatBytes(chunks));
        const etag = res.headers.etag;
        finish(undefined, {
          status: res.statusCode ?? 0,
          etag: typeof etag === "string" ? etag : undefined,
          body: parseAnswer(text),
        });
      });
    });
    const onAbort = () => {
      req.destroy();
      finish(init.signal?.reason);
    };
    init.signal?.addEventListener("abort", onAbort, { once: true });
    req.on("error", (error: Error) => finish(error));

    const write = (chunk: Uint8Array) =>
      new Promise<void>((done, fail) => {
        const onClose = () => fail(new Error("the connection closed while uploading"));
        req.once("close", onClose);
        req.write(chunk, (error) => {
          req.off("close", onClose);
          if (error) fail(error);
          else done();
        });
      });

    (async () => {
      try {
        for await (const chunk of init.body()) {
          if (settled || req.destroyed) return;
          await write(chunk);
        }
        if (!settled && !req.destroyed) req.end();
        sent = true;
      } catch (error) {
        if (responded) return;
        req.destroy();
        finish(error);
      }
    })();
  });
}

function parseAnswer(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
