/**
 * Tool annotations, set on purpose for every tool. Most tools fall in one of these groups.
 *
 * @module
 */

import type { ToolAnnotations } from "@modelcontextprotocol/server";

/**
 * Reads fal (catalogue, pricing, jobs) and changes nothing: safe to call and to repeat. The
 * destructive and idempotent hints mean nothing for a read-only tool, and openWorldHint's
 * default (true: it talks to fal) is what it is, so they are not sent.
 */
export const READS_FAL: ToolAnnotations = { readOnlyHint: true };

/**
 * Starts paid work at fal (or stores a file there): each call creates something new and
 * destroys nothing. Not read-only, not idempotent and open-world are the protocol's defaults,
 * so not sent (each listed hint costs every model turn a few tokens).
 */
export const CREATES_AT_FAL: ToolAnnotations = { destructiveHint: false };
