/**
 * The fake's CDN: generated media and uploaded files, served at `GET {origin}/files/{name}`.
 *
 * @module
 */

import { detail, methodNotAllowed } from "./http.ts";

/** A stored file. `bytes` may hold only a prefix of a huge upload (see `size`). */
export interface StoredFile {
  /** Path under `/files/`. */
  readonly name: string;
  /** MIME type served. */
  readonly contentType: string;
  /** Full size in bytes. */
  readonly size: number;
  /** Stored bytes; shorter than `size` when a huge upload was only counted. */
  readonly bytes: Uint8Array<ArrayBuffer>;
}

/** In-memory file storage with URLs on the fake's origin. */
export class FileStore {
  readonly #files = new Map<string, StoredFile>();
  readonly #origin: string;

  /** A store whose URLs start with `{origin}/files/`. */
  constructor(origin: string) {
    this.#origin = origin;
  }

  /** Public URL of a file name. */
  url(name: string): string {
    return `${this.#origin}/files/${name}`;
  }

  /** Stores a file (replacing any with the same name) and returns its URL. */
  put(
    name: string,
    contentType: string,
    bytes: Uint8Array<ArrayBuffer>,
    size: number = bytes.length,
  ): string {
    this.#files.set(name, { name, contentType, bytes, size: Math.max(size, bytes.length) });
    return this.url(name);
  }

  /** The file stored under `name`. */
  get(name: string): StoredFile | undefined {
    return this.#files.get(name);
  }

  /** The file behind one of this store's URLs; `undefined` for other URLs or missing files. */
  resolve(url: string): StoredFile | undefined {
    const name = this.nameOf(url);
    return name === undefined ? undefined : this.#files.get(name);
  }

  /** The file name if `url` points into this store (whether or not the file exists). */
  nameOf(url: string): string | undefined {
    const prefix = `${this.#origin}/files/`;
    if (!url.startsWith(prefix)) return undefined;
    const name = url.slice(prefix.length).split(/[?#]/)[0] ?? "";
    return name === "" ? undefined : name;
  }

  /** Answers `GET`/`HEAD /files/{name}`. */
  serve(req: Request, name: string): Response {
    if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed(["GET", "HEAD"]);
    const file = this.#files.get(name);
    if (!file) return detail(404, "File not found");
    const headers: Record<string, string> = {
      "content-type": file.contentType,
      "content-length": String(file.size),
      "cache-control": "public, max-age=3600",
    };
    if (file.bytes.length < file.size) headers["x-fake-fal-truncated"] = "true";
    if (req.method === "HEAD") return new Response(null, { status: 200, headers });
    if (file.bytes.length === file.size) return new Response(file.bytes, { status: 200, headers });
    return new Response(paddedStream(file.bytes, file.size), { status: 200, headers });
  }
}

/** Streams `bytes` followed by zeros up to `size` (for uploads too big to keep). */
function paddedStream(bytes: Uint8Array<ArrayBuffer>, size: number): ReadableStream<Uint8Array> {
  const chunk = 1 << 20;
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent < bytes.length) {
        const part = bytes.subarray(sent, Math.min(bytes.length, sent + chunk));
        sent += part.length;
        controller.enqueue(part);
      } else if (sent < size) {
        const length = Math.min(chunk, size - sent);
        sent += length;
        controller.enqueue(new Uint8Array(length));
      } else {
        controller.close();
      }
    },
  });
}
