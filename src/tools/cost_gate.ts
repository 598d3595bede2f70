/**
 * The cost gate every paid tool passes before it submits: the {@linkcode CostGuard} decision for
 * one call, with the `confirm_token` argument the token fallback hands back.
 *
 * @module
 */

import type { McpServer, ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import { canElicit, type CostDecision } from "../costs/cost_guard.ts";

/**
 * The `confirm_token` argument of paid tools. Undescribed in the listing, to keep it lean: the
 * confirmation answer that hands out a token says how to pass it back.
 */
export const confirmTokenArg: z.ZodOptional<z.ZodString> = z.string().min(1).max(4000)
  .optional();

/** Raised by a task starter when the run needs a confirmation first (it then runs as a call). */
export class ConfirmationNeeded extends Error {
  /** The answer the call would give. */
  readonly decision: CostDecision;

  /** Wraps a decision that is not "go". */
  constructor(decision: CostDecision) {
    super("the run needs a cost confirmation first");
    this.name = "ConfirmationNeeded";
    this.decision = decision;
  }
}

/** Decides on one call of `tool` to `endpointId` with `args` (as called). */
export async function gateRun(
  server: McpServer,
  deps: ServerDeps,
  ctx: ServerContext,
  tool: string,
  endpointId: string,
  args: Record<string, unknown>,
): Promise<CostDecision> {
  if (!deps.costs?.active) return { kind: "go", estimateUsd: undefined };
  const { confirm_token: confirmToken, ...rest } = args;
  return await deps.costs.check(deps, ctx, {
    tool,
    endpointId,
    args: rest,
    confirmToken: typeof confirmToken === "string" ? confirmToken : undefined,
  }, canElicit(ctx, server.server.getClientCapabilities()));
}

/**
 * Submits a run the gate let through; if the submit fails, the run's charge against the daily
 * budget is taken back (nothing was run).
 */
export async function submitPaid<T>(
  deps: ServerDeps,
  decision: CostDecision,
  submit: () => Promise<T>,
): Promise<T> {
  try {
    return await submit();
  } catch (error) {
    await deps.costs?.refund(decision);
    throw error;
  }
}
