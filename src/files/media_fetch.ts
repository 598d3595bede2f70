/**
 * The one way the server fetches a result's media (inline previews, saved files, anything): a
 * model's output is data, not a list of URLs to visit. A URL is fetched only when it is on fal's
 * media hosts (its CDN `fal.media` / `*.fal.media` and its storage bucket on
 * `storage.googleapis.com/falserverless/`) or on the configured fal base URL's origin, over https
 * (plain http only for a loopback fal base URL, which is how the local fake runs). Redirects are
 * followed by hand and only to URLs that pass the same check; a public name is resolved first and
 * refused when any of its addresses is loopback, private or link-local. Every body is capped in
 * bytes: a larger one fails clearly, and nothing past the cap is read.
 *
 * Anything refused is never connected to; the caller passes the URL on as a link.
 *
 * @example
 * ```ts
 * import { MediaFetcher } from "./media_fetch.ts";
 *
 * const media = new MediaFetcher({ maxBytes: 512 * 1024 * 1024 });
 * media.refusal("http://169.254.169.254/latest/meta-data"); // "is not on fal's media hosts …"
 * const response = await media.get("https://v3.fal.media/files/lion/out.png");
 * ```
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { FalMcpError } from "../errors.ts";
import { isNonPublicAddress } from "./private_address.ts";
import { falFetch } from "../connection_pool.ts";

/** fal's media hosts: `host` or `*.suffix`, optionally followed by a path prefix. */
export const FAL_MEDIA_HOSTS: readonly string[] = [
  // fal's CDN: v3.fal.media, v3b.fal.media, fal.media…
  "fal.media",
  "*.fal.media",
  // fal's storage bucket (model examples and older results).
  "storage.googleapis.com/falserverless/",
  // fal's earlier CDN, still named in older results and model examples.
  "fal-cdn.batuhan-941.workers.dev",
];

/** Options for {@linkcode MediaFetcher}. */
export interface MediaFetchOptions {
  /** Largest body in bytes any fetch may deliver (`--max-download-bytes`). */
  maxBytes: number;
  /** The configured fal base URL: its origin is trusted like fal's own hosts. */
  falBaseUrl?: string | undefined;
  /** Media host patterns instead of {@linkcode FAL_MEDIA_HOSTS}. */
  mediaHosts?: readonly string[] | undefined;
  /** Most redirects followed per fetch (default 5). */
  maxRedirects?: number | undefined;
  /** Resolves a host name to its addresses (default: the system resolver, every address). */
  lookup?: ((hostname: string) => Promise<string[]>) | undefined;
  /** The underlying fetch (tests); defaults to the global one. */
  fetch?: typeof fetch | undefined;
}

/** Options of one {@linkcode MediaFetcher.get}. */
export interface MediaGetOptions {
  /** Aborts the fetch. */
  signal?: AbortSignal | null | undefined;
}

/** A result's URL the server will not fetch (it is passed on as a link instead). */
export class MediaNotFetchedError extends FalMcpError {
  /** The URL that was refused. */
  readonly url: string;

  /** Creates the error for `url`, refused because of `reason`. */
  constructor(url: string, reason: string) {
    super(`Not fetched: ${shortUrl(url)} ${reason}; it is passed on as a link only.`, {
      status: 403,
    });
    this.name = "MediaNotFetchedError";
    this.url = url;
  }
}

/** A download larger than the server's cap. */
export class DownloadTooLargeError extends FalMcpError {
  /** Creates the error for `url` and the cap it went over. */
  constructor(url: string, maxBytes: number) {
    super(
      `Cannot download ${shortUrl(url)}: it is larger than this server's download cap of ` +
        `${maxBytes} bytes (--max-download-bytes); open the link directly instead.`,
      { status: 502 },
    );
    this.name = "DownloadTooLargeError";
  }
}

function shortUrl(url: string): string {
  return url.length > 200 ? `${url.slice(0, 200)}…` : url;
}

interface HostPattern {
  suffix: boolean;
  host: string;
  pathPrefix: string;
}

function parsePattern(pattern: string): HostPattern {
  const slash = pattern.indexOf("/");
  const host = (slash < 0 ? pattern : pattern.slice(0, slash)).toLowerCase();
  const pathPrefix = slash < 0 ? "/" : pattern.slice(slash);
  return host.startsWith("*.")
    ? { suffix: true, host: host.slice(1), pathPrefix }
    : { suffix: false, host, pathPrefix };
}

function isLoopbackName(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || h === "::1" ||
    /^127\.\d+\.\d+\.\d+$/.test(h);
}

async function systemLookup(hostname: string): Promise<string[]> {
  const found = await lookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => entry.address);
}

/** Fetches result media under the rules of this module. One per process. */
export class MediaFetcher {
  readonly #maxBytes: number;
  readonly #patterns: HostPattern[];
  readonly #falOrigin: URL | undefined;
  readonly #maxRedirects: number;
  readonly #lookup: (hostname: string) => Promise<string[]>;
  readonly #fetch: typeof fetch;

  /** Creates a fetcher with the given cap and hosts. */
  constructor(options: MediaFetchOptions) {
    this.#maxBytes = options.maxBytes;
    this.#patterns = (options.mediaHosts ?? FAL_MEDIA_HOSTS).map(parsePattern);
    this.#falOrigin = options.falBaseUrl ? new URL(options.falBaseUrl) : undefined;
    this.#maxRedirects = options.maxRedirects ?? 5;
    this.#lookup = options.lookup ?? systemLookup;
    this.#fetch = options.fetch ?? falFetch;
  }

  /** The largest body a fetch may deliver. */
  get maxBytes(): number {
    return this.#maxBytes;
  }

  /**
   * Why `url` would not be fetched, judged from the URL alone (scheme, host, port, path); or
   * `undefined` when it may be (its addresses are still checked when it is fetched).
   */
  refusal(url: string): string | undefined {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return "is not a valid URL";
    }
    if (parsed.username || parsed.password) return "carries credentials";
    if (this.#isFalOrigin(parsed)) {
      if (parsed.protocol === "https:") return undefined;
      if (parsed.protocol === "http:" && isLoopbackName(parsed.hostname)) return undefined;
      return "is not https";
    }
    if (parsed.protocol !== "https:") return "is not an https URL on fal's media hosts";
    if (parsed.port !== "") return "is not on fal's media hosts (it names a port)";
    const host = parsed.hostname.toLowerCase();
    const path = parsed.pathname;
    const onMediaHost = this.#patterns.some((p) =>
      (p.suffix ? host.endsWith(p.host) && host.length > p.host.length : host === p.host) &&
      path.startsWith(p.pathPrefix)
    );
    return onMediaHost ? undefined : "is not on fal's media hosts";
  }

  /**
   * GETs `url` when the rules allow it, following redirects (each checked the same way). Throws
   * {@linkcode MediaNotFetchedError} for a refused URL or redirect (nothing was sent to it) and
   * {@linkcode DownloadTooLargeError} when the declared length is over the cap; the answered
   * body errors with {@linkcode DownloadTooLargeError} as soon as it goes over the cap.
   * Network errors reject as `fetch` does.
   */
  async get(url: string, options: MediaGetOptions = {}): Promise<Response> {
    let current = url;
    for (let hop = 0;; hop++) {
      const target = await this.#checked(current);
      const response = await this.#fetch(target, {
        redirect: "manual",
        signal: options.signal ?? null,
      });
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.body?.cancel();
        if (hop >= this.#maxRedirects) {
          throw new MediaNotFetchedError(url, `redirects more than ${this.#maxRedirects} times`);
        }
        try {
          current = new URL(location, target).href;
        } catch {
          throw new MediaNotFetchedError(url, "redirects to an invalid URL");
        }
        continue;
      }
      return this.#capped(response, url);
    }
  }

  /** {@linkcode MediaFetcher.get} in the shape of `fetch` (GET only; `init.signal` is kept). */
  readonly fetch: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    return this.get(url, { signal: init?.signal });
  };

  #isFalOrigin(url: URL): boolean {
    const origin = this.#falOrigin;
    return !!origin && url.protocol === origin.protocol && url.host === origin.host;
  }

  /** The URL to connect to, after the URL and every address of its host passed the rules. */
  async #checked(url: string): Promise<URL> {
    const reason = this.refusal(url);
    if (reason) throw new MediaNotFetchedError(url, reason);
    const parsed = new URL(url);
    // The operator configured the fal base URL: its host may be anywhere they chose.
    if (this.#isFalOrigin(parsed)) return parsed;
    const host = parsed.hostname.replace(/^\[|\]$/g, "");
    let addresses: string[];
    if (isIP(host)) {
      addresses = [host];
    } else {
      try {
        addresses = await this.#lookup(host);
      } catch (error) {
        throw new FalMcpError(
          `Cannot download ${shortUrl(url)}: its host does not resolve (${
            error instanceof Error ? error.message : error
          })`,
          { status: 502, cause: error },
        );
      }
    }
    if (addresses.length === 0 || addresses.some(isNonPublicAddress)) {
      throw new MediaNotFetchedError(url, "resolves to a private, loopback or link-local address");
    }
    return parsed;
  }

  #capped(response: Response, url: string): Response {
    const max = this.#maxBytes;
    const declared = Number(response.headers.get("content-length") ?? NaN);
    if (declared > max) {
      void response.body?.cancel().catch(() => {});
      throw new DownloadTooLargeError(url, max);
    }
    if (!response.body) return response;
    let total = 0;
    const limit = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        total += chunk.length;
        if (total > max) controller.error(new DownloadTooLargeError(url, max));
        else controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(limit), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }
}
