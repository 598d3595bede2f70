/**
 * Reading a POST body once, bounded in bytes.
 *
 * @module
 */

import { readRequestBody } from "@modelcontextprotocol/server";

/** A body read with {@linkcode readBody}. */
export type ReadBody = { tooLarge: true; text?: undefined } | { tooLarge: false; text: string };

/**
 * Reads `request`'s body as text, refusing more than `maxBytes`. A body of declared length
 * (HTTP framing guarantees no more arrives) is read in one piece by the runtime; a chunked one
 * is read piece by piece and abandoned as soon as it passes the limit.
 */
export async function readBody(request: Request, maxBytes: number): Promise<ReadBody> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d{1,15}$/.test(declared)) {
    if (Number(declared) > maxBytes) return { tooLarge: true };
    return { tooLarge: false, text: await request.text() };
  }
  const body = await readRequestBody(request, maxBytes);
  return body.tooLarge ? { tooLarge: true } : { tooLarge: false, text: body.text ?? "" };
}
