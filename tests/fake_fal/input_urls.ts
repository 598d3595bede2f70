/**
 * fal downloads every URL a job's input names (`image_url`, `audio_url`, `image_urls`…) and fails
 * the job when one cannot be fetched: the job still reaches COMPLETED, and its result is a 422
 * `file_download_error` naming the field. The fake does the same for what it can judge offline:
 *
 * - a URL into its own file store resolves only when the file exists;
 * - a loopback URL elsewhere (another local server) is fetched, and must answer 2xx;
 * - a `data:` URI must be well formed;
 * - hosts under the reserved `.invalid` and `.test` names never resolve.
 *
 * Other internet URLs are taken to resolve: the fake runs without internet access.
 *
 * @module
 */

import type { FakeContext } from "./context.ts";
import { modelError, type Outcome } from "./failures.ts";

const MESSAGE = "Failed to download the file. Please check if the URL is accessible.";
const URL_KEY = /(?:^|_)urls?$/;

/** Every URL-valued field of `input` (keys ending in `url`/`urls`), with its location. */
function urlFields(input: unknown, loc: (string | number)[] = ["body"]) {
  const found: { loc: (string | number)[]; url: string }[] = [];
  if (!input || typeof input !== "object") return found;
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    const at = [...loc, Array.isArray(input) ? Number(key) : key];
    if (typeof value === "string" && (URL_KEY.test(key) || Array.isArray(input))) {
      if (/^(?:https?:|data:)/i.test(value)) found.push({ loc: at, url: value });
    } else if (Array.isArray(value) && URL_KEY.test(key)) {
      found.push(...urlFields(value, at));
    } else if (value && typeof value === "object" && !Array.isArray(value)) {
      found.push(...urlFields(value, at));
    }
  }
  return found;
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function wellFormedDataUri(uri: string): boolean {
  const match = /^data:[\w.+-]+\/[\w.+-]+(?:;[\w-]+=[\w.-]+)*(;base64)?,(.*)$/is.exec(uri);
  if (!match) return false;
  if (!match[1]) return true;
  try {
    atob(match[2]!);
    return true;
  } catch {
    return false;
  }
}

/** Whether fal could download `url`. */
async function resolves(ctx: FakeContext, url: string): Promise<boolean> {
  if (url.startsWith("data:")) return wellFormedDataUri(url);
  if (ctx.files.nameOf(url) !== undefined) return ctx.files.resolve(url) !== undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (/\.(?:invalid|test)\.?$/i.test(parsed.hostname)) return false;
  if (!isLoopback(parsed.hostname)) return true;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * The outcome of a job whose input names a URL fal could not download, or undefined when every
 * URL resolves.
 */
export async function inputDownloadFailure(
  ctx: FakeContext,
  input: unknown,
): Promise<Outcome | undefined> {
  for (const { loc, url } of urlFields(input)) {
    if (await resolves(ctx, url)) continue;
    const outcome = modelError(422, "file_download_error", MESSAGE, loc);
    const item = (outcome.body as { detail: Record<string, unknown>[] }).detail[0]!;
    item.input = url.startsWith("data:") ? `${url.slice(0, 40)}…` : url;
    return outcome;
  }
  return undefined;
}
