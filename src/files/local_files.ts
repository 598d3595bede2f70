/**
 * Which files of the server's machine a caller may name (for `upload_file` and local-path media
 * inputs). The machine belongs to the operator: stdio callers run the server themselves and may
 * name any file; HTTP callers may name none, unless the operator shared one folder with
 * `--allow-local-files DIR`, and then only files inside it, symlinks resolved. Where an HTTP
 * caller connects from proves nothing (a reverse proxy on the same host makes every caller
 * arrive from 127.0.0.1).
 *
 * @example
 * ```ts
 * import { localFilePath } from "./local_files.ts";
 *
 * const path = await localFilePath("cats/tabby.png", { kind: "inside", root: "/srv/shared" });
 * // "/srv/shared/cats/tabby.png" (its real path), or a 403 when it leads outside
 * ```
 *
 * @module
 */

import { isAbsolute, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { FalMcpError, JsonRpcCode } from "../errors.ts";

const ACCEPTED = "Use an http(s) URL, a data: URI, a file:// URL or a local file path " +
  "(absolute, ~/…, or relative to the server's working directory).";

function invalid(message: string, cause?: unknown): FalMcpError {
  return new FalMcpError(message, { status: 400, code: JsonRpcCode.InvalidParams, cause });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Which server-side files callers may name: any (stdio), none, or those inside one folder. */
export type LocalFileAccess =
  | { kind: "any" }
  | { kind: "none" }
  | { kind: "inside"; root: string };

/**
 * The absolute local path named by a `file://` URL or a path (absolute, `~/…` expanded with
 * HOME, or relative to the cwd). Throws a 400 {@linkcode FalMcpError} for other URL schemes
 * and empty input.
 */
export function resolveLocalPath(value: string): string {
  const input = value.trim();
  if (/^file:/i.test(input)) {
    try {
      return fileURLToPath(input);
    } catch (error) {
      throw invalid(`Invalid file URL ${input}: ${errorMessage(error)}. ${ACCEPTED}`, error);
    }
  }
  // A URL scheme (two or more letters before the colon, so `C:\…` stays a Windows path).
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(input)?.[1];
  if (scheme && /^https?$/i.test(scheme)) {
    throw invalid(`${input} is already a web URL: models accept it as is, no upload needed`);
  }
  if (input === "" || scheme) {
    const what = input === "" ? "an empty path" : `a URL with scheme ${scheme}:`;
    throw invalid(`Cannot use ${what} as a media input. ${ACCEPTED}`);
  }
  if (input === "~" || input.startsWith("~/") || input.startsWith("~\\")) {
    const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
    if (!home) throw invalid(`Cannot resolve ${input}: HOME is not set`);
    return resolve(home, input.slice(2));
  }
  return isAbsolute(input) ? input : resolve(Deno.cwd(), input);
}

function refused(message: string): FalMcpError {
  return new FalMcpError(message, { status: 403, code: JsonRpcCode.InvalidParams });
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The path to read for a caller's `value` (a path or `file://` URL) under `access`: for `inside`,
 * relative paths are taken inside the shared folder and the answer is the file's real path,
 * refused (403) when it, or a symlink on the way, leads outside. Throws a 403
 * {@linkcode FalMcpError} under `none`, a 400 for an unusable value, a 404 for a missing file
 * inside the shared folder.
 */
export async function localFilePath(value: string, access: LocalFileAccess): Promise<string> {
  if (access.kind === "none") {
    throw refused(
      "This server does not read its own files for HTTP clients: pass an https URL or a data: " +
        "URI instead (the operator can share one folder with --allow-local-files DIR).",
    );
  }
  if (access.kind === "any") return resolveLocalPath(value);
  const root = await Deno.realPath(access.root);
  const input = value.trim();
  // Validates the form (no other URL schemes, not empty) and expands `~` and file:// URLs.
  const expanded = resolveLocalPath(input);
  const relativeInput = !/^file:/i.test(input) && !isAbsolute(input) && !input.startsWith("~");
  const named = relativeInput ? resolve(root, input) : expanded;
  const outside = () =>
    refused(
      `Cannot read ${value}: it is outside the folder this server shares with HTTP clients ` +
        `(--allow-local-files). Name a file inside ${root}, or pass an https URL or data: URI.`,
    );
  let real: string;
  try {
    real = await Deno.realPath(named);
  } catch (error) {
    const lexicallyInside = isInside(root, resolve(named)) ||
      isInside(resolve(access.root), resolve(named));
    if (error instanceof Deno.errors.NotFound && lexicallyInside) {
      throw new FalMcpError(`Cannot read ${value}: no such file in the shared folder ${root}`, {
        status: 404,
        code: JsonRpcCode.InvalidParams,
        cause: error,
      });
    }
    throw outside();
  }
  if (!isInside(root, real)) throw outside();
  return real;
}
