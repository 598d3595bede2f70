/**
 * Tool annotations, set on purpose for every tool. Most tools fall in one of these groups.
 *
 * @module
 */

import type { ToolAnnotations } from "@modelcontextprotocol/server";

/** Reads fal (catalogue, pricing, jobs) and changes nothing: safe to call and to repeat. */
export const READS_FAL: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
};

/** Starts paid work at fal (or stores a file there): each call creates something new. */
export const CREATES_AT_FAL: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: true,
};
