/**
 * Checking a raw `input` for `run_model` / `submit_job` against the endpoint's schema before it
 * is submitted (and paid for): unknown fields, missing required ones, wrong types and values. A
 * caller who knows better passes `validate: false`.
 *
 * @module
 */

import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import { FalMcpError } from "../errors.ts";
import { assertModelInput } from "../fal/validate_input.ts";

/** The `validate` argument of `run_model` and `submit_job`. */
export const validateArg: z.ZodOptional<z.ZodBoolean> = z.boolean().optional().describe(
  "false skips the schema check",
);

/**
 * Throws a clear invalid-params error when `input` does not fit the endpoint's schema. An
 * unknown endpoint is refused; when fal publishes no schema for it, or the catalogue cannot be
 * read now, the input goes unchecked (fal still checks it).
 */
export async function checkRunInput(
  deps: ServerDeps,
  endpointId: string,
  input: Record<string, unknown>,
  validate: boolean | undefined,
  signal?: AbortSignal,
): Promise<void> {
  if (validate === false) return;
  let schema;
  try {
    schema = (await deps.schemas.get(deps.fal, endpointId, signal)).input;
  } catch (error) {
    if (error instanceof FalMcpError && error.status === 404) throw error;
    if (signal?.aborted) throw error;
    deps.logger.debug("input not checked: no schema", { endpoint_id: endpointId, error });
    return;
  }
  assertModelInput(endpointId, input, schema, { unknownKeys: true });
}
