/**
 * fal endpoint ids: `owner/app[/path…]`, optionally prefixed by `workflows/` or `comfy/`.
 * Submits and sync runs use the full id; status, result and cancel use only the app part.
 *
 * @module
 */

import { invalidParams } from "../errors.ts";

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const NAMESPACES = new Set(["workflows", "comfy"]);

/** A parsed endpoint id. */
export interface EndpointId {
  /** The whole id, e.g. `fal-ai/flux/dev`. */
  full: string;
  /** The queue app id used for status/result/cancel, e.g. `fal-ai/flux`. */
  app: string;
}

/**
 * Parses and validates an endpoint id. Throws an invalid-params {@linkcode FalMcpError} that says
 * what is wrong, so a bad id never reaches a URL.
 */
export function parseEndpointId(id: string): EndpointId {
  const trimmed = id.trim();
  const parts = trimmed.split("/");
  const namespace = parts.length > 2 && NAMESPACES.has(parts[0]!) ? parts.shift()! : undefined;
  if (parts.length < 2 || !parts.every((p) => SEGMENT.test(p) && p !== "..")) {
    throw invalidParams(
      `Invalid endpoint id "${id}": expected "owner/app" or "owner/app/path" (for example "fal-ai/flux/dev")`,
    );
  }
  const app = [namespace, parts[0], parts[1]].filter(Boolean).join("/");
  return { full: [namespace, ...parts].filter(Boolean).join("/"), app };
}
