/**
 * Asking before spending: with `--confirm-above-usd`, a run whose estimate is above the
 * threshold is confirmed by the user first; with `--budget-usd-per-day`, runs past a caller's
 * daily budget are refused with the spend so far.
 *
 * How the user is asked depends on the client:
 * - 2026-07-28 clients that can elicit get a multi-round-trip `input_required` result; the
 *   `requestState` is signed (HMAC with the server secret, bound to the caller and the exact
 *   call, expiring), so any instance sharing the secret can resume it.
 * - 2025-era clients that can elicit are sent `elicitation/create` (the SDK turns the same
 *   `input_required` answer into that request and calls the tool again with the reply).
 * - Clients without elicitation get the estimate and a one-time confirm token to pass back as
 *   `confirm_token` on the same call.
 *
 * @module
 */

import {
  createRequestStateCodec,
  inputRequired,
  inputResponse,
  type RequestStateCodec,
} from "@modelcontextprotocol/server";
import type { CallToolResult, InputRequiredResult, ServerContext } from "../sdk_types.ts";
import { createHash, randomBytes } from "node:crypto";
import type { FalClient } from "../fal/client.ts";
import type { JobCaller } from "../jobs/manager.ts";
import { estimateCost, roundAmount } from "../fal/platform.ts";
import { FalMcpError, JsonRpcCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type Charge, type CostLedger, SpendLedger } from "./budget.ts";

/** How long a confirmation (requestState or confirm token) stays valid. */
export const CONFIRM_TTL_SECONDS = 600;

/** The input request key of the cost confirmation. */
export const CONFIRM_KEY = "confirm_cost";

/** Settings of the {@linkcode CostGuard}. */
export interface CostGuardOptions {
  /** Runs estimated above this need confirmation (off when undefined). */
  confirmAboveUsd: number | undefined;
  /** Daily budget per owner (unlimited when undefined). */
  budgetUsdPerDay: number | undefined;
  /** HMAC secret (32+ bytes); random per process when undefined. */
  secret: string | undefined;
  /** Logger. */
  logger: Logger;
  /**
   * Where daily spend and used confirm tokens are kept: in process by default; the cluster's
   * Redis (`RedisCostLedger`) with `--redis-url`, so budgets and single use hold cluster-wide.
   */
  ledger?: CostLedger;
  /** Clock, for tests (of the in-process ledger). */
  now?: () => Date;
}

/** One run the guard decides on. */
export interface PlannedRun {
  /** The tool being called. */
  tool: string;
  /** The endpoint it would run. */
  endpointId: string;
  /** The tool's arguments as called (without `confirm_token`): what the user confirms. */
  args: Record<string, unknown>;
  /** A confirm token the caller passed back, if any. */
  confirmToken?: string | undefined;
}

/** What the guard decided. */
export type CostDecision =
  | {
    kind: "go";
    estimateUsd: number | undefined;
    /** What the run was counted as in its caller's daily spend (refunded if not submitted). */
    charge?: Charge | undefined;
  }
  | { kind: "answer"; result: CallToolResult | InputRequiredResult };

/** What a confirmation's signed `requestState` carries. */
export interface ConfirmState {
  /** Fingerprint of owner + tool + endpoint + arguments. */
  fp: string;
  /** The estimate the user saw. */
  usd: number;
  /** One-time nonce: an accepted confirmation runs once, on any instance. */
  n?: string;
}

interface TokenPayload extends ConfirmState {
  /** One-time nonce. */
  n: string;
}

/** A JSON text of a value with object keys sorted, so equal arguments hash equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function usd(amount: number): string {
  return `$${roundAmount(amount).toFixed(amount < 0.1 ? 4 : 2)}`;
}

/** The refusal of a run past the caller's daily budget, with the spend so far. */
function overBudget(endpointId: string, estimate: number, spent: number, budget: number) {
  return new FalMcpError(
    `Not run: ${endpointId} is estimated at ${usd(estimate)}, and today's spend so ` +
      `far is ${usd(spent)} of the ${usd(budget)} daily budget per caller. Try a cheaper ` +
      "model (recommend_model, get_pricing) or wait until the budget resets at 00:00 UTC.",
    { status: 402, code: JsonRpcCode.InvalidRequest },
  );
}

/** Whether the client of this request can answer elicitations. */
export function canElicit(ctx: ServerContext, legacyCapabilities: unknown): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const modern = envelope?.["io.modelcontextprotocol/clientCapabilities"] as
    | { elicitation?: unknown }
    | undefined;
  if (typeof envelope?.["io.modelcontextprotocol/protocolVersion"] === "string") {
    return !!modern?.elicitation;
  }
  return !!(legacyCapabilities as { elicitation?: unknown } | undefined)?.elicitation;
}

/** Confirms costly runs and keeps spending within daily budgets. */
export class CostGuard {
  readonly #options: CostGuardOptions;
  readonly #state: RequestStateCodec<ConfirmState>;
  readonly #tokens: RequestStateCodec<TokenPayload>;
  readonly #ledger: CostLedger;

  /** A guard with these settings. */
  constructor(options: CostGuardOptions) {
    this.#options = options;
    const secret = options.secret ?? randomBytes(32).toString("hex");
    this.#state = createRequestStateCodec<ConfirmState>({
      key: `${secret}:request-state`,
      ttlSeconds: CONFIRM_TTL_SECONDS,
    });
    this.#tokens = createRequestStateCodec<TokenPayload>({
      key: `${secret}:confirm-token`,
      ttlSeconds: CONFIRM_TTL_SECONDS,
    });
    this.#ledger = options.ledger ?? new SpendLedger(options.now);
  }

  /** Whether the guard does anything at all. */
  get active(): boolean {
    return this.#options.confirmAboveUsd !== undefined ||
      this.#options.budgetUsdPerDay !== undefined;
  }

  /** Whether runs above a price ask for a confirmation (`--confirm-above-usd`). */
  get confirming(): boolean {
    return this.#options.confirmAboveUsd !== undefined;
  }

  /** Verifies an echoed `requestState` (the SDK's `requestState.verify` hook). */
  verifyState = (state: string, ctx: ServerContext): Promise<ConfirmState> =>
    this.#state.verify(state, ctx);

  /** What `owner` spent today, in estimated US dollars. */
  spentToday(owner: string): Promise<number> {
    return this.#ledger.spent(owner);
  }

  /**
   * Decides on a run before it is submitted: go ahead, or answer (ask for confirmation, hand
   * out a confirm token, refuse past the budget, or report a declined confirmation).
   */
  async check(
    caller: JobCaller,
    ctx: ServerContext,
    run: PlannedRun,
    canElicitUser: boolean,
  ): Promise<CostDecision> {
    if (!this.active) return { kind: "go", estimateUsd: undefined };
    const estimate = await this.#estimate(caller.fal, run.endpointId, ctx.mcpReq.signal);
    // Budgets and confirmations belong to the caller's principal, like their jobs.
    const owner = caller.principal.id;
    const budget = this.#options.budgetUsdPerDay;
    // Refused before the user is asked to confirm a run the budget would not allow anyway.
    if (budget !== undefined && estimate !== undefined) {
      const spent = await this.#ledger.spent(owner);
      if (spent + estimate > budget) throw overBudget(run.endpointId, estimate, spent, budget);
    }
    const threshold = this.#options.confirmAboveUsd;
    if (threshold === undefined || estimate === undefined || estimate <= threshold) {
      return await this.#go(owner, run.endpointId, estimate);
    }
    const fp = createHash("sha256")
      .update(canonical([owner, run.tool, run.endpointId, run.args]))
      .digest("base64url");

    // A confirmation round coming back (2026 retry, or the 2025 elicitation reply).
    const reply = inputResponse(ctx.mcpReq.inputResponses, CONFIRM_KEY);
    const state = ctx.mcpReq.requestState<ConfirmState>();
    if (reply.kind === "elicit" && state?.fp === fp) {
      if (reply.action === "accept" && reply.content?.confirm === true) {
        return await this.#goOnce(
          owner,
          run.endpointId,
          estimate,
          state.n,
          "This confirmation was already used: the run it confirmed was submitted once " +
            "(list_jobs shows it). Call the tool again without requestState to be asked anew.",
        );
      }
      return {
        kind: "answer",
        result: {
          isError: true,
          content: [{
            type: "text",
            text: `Not run: the user did not confirm spending about ${usd(state.usd)} on ` +
              `${run.endpointId}. Nothing was submitted or billed.`,
          }],
        },
      };
    }
    if (run.confirmToken !== undefined) {
      const nonce = await this.#verifyToken(run.confirmToken, fp, ctx);
      return await this.#goOnce(
        owner,
        run.endpointId,
        estimate,
        nonce,
        "Invalid confirm_token: it was already used. Call the tool again without it to get " +
          "a new one.",
      );
    }
    const message = `Running ${run.endpointId} (${run.tool}) is estimated to cost about ` +
      `${usd(estimate)}, above the ${usd(threshold)} confirmation threshold. Go ahead?`;
    if (canElicitUser) {
      return {
        kind: "answer",
        result: inputRequired({
          inputRequests: {
            [CONFIRM_KEY]: inputRequired.elicit({
              message,
              requestedSchema: {
                type: "object",
                properties: {
                  confirm: {
                    type: "boolean",
                    title: `Spend about ${usd(estimate)}`,
                    description: `Run ${run.endpointId} and pay for it with your fal credits`,
                  },
                },
                required: ["confirm"],
              },
            }),
          },
          requestState: await this.#state.mint({
            fp,
            usd: estimate,
            n: randomBytes(12).toString("base64url"),
          }),
        }),
      };
    }
    const token = await this.#tokens.mint({
      fp,
      usd: estimate,
      n: randomBytes(12).toString("base64url"),
    });
    return {
      kind: "answer",
      result: {
        content: [{
          type: "text",
          text: `Not run yet: ${message.replace(" Go ahead?", "")} Ask the user whether to ` +
            `spend it. To go ahead, call ${run.tool} again with the same arguments plus ` +
            `"confirm_token": "${token}" (valid once, for ${CONFIRM_TTL_SECONDS / 60} minutes).`,
        }],
        structuredContent: {
          status: "confirmation_required",
          confirmation_required: true,
          endpoint_id: run.endpointId,
          estimate_usd: roundAmount(estimate),
          threshold_usd: threshold,
          confirm_token: token,
          expires_in_seconds: CONFIRM_TTL_SECONDS,
        },
      },
    };
  }

  /**
   * Counts a run that goes ahead in its owner's daily spend, atomically against the budget (two
   * runs at once, on one instance or several, cannot both take the last of it).
   */
  async #go(
    owner: string,
    endpointId: string,
    estimate: number | undefined,
  ): Promise<Extract<CostDecision, { kind: "go" }>> {
    if (estimate === undefined || estimate <= 0) return { kind: "go", estimateUsd: estimate };
    const budget = this.#options.budgetUsdPerDay;
    const outcome = await this.#ledger.charge(owner, estimate, budget);
    if (outcome.kind === "over_budget") {
      throw overBudget(endpointId, estimate, outcome.spentUsd, budget ?? 0);
    }
    return { kind: "go", estimateUsd: estimate, charge: outcome.charge };
  }

  /**
   * {@linkcode CostGuard.#go} for a confirmed run, whose confirmation's nonce must not have been
   * used before (here or on another instance); `refusal` says why when it was.
   */
  async #goOnce(
    owner: string,
    endpointId: string,
    estimate: number | undefined,
    nonce: string | undefined,
    refusal: string,
  ): Promise<Extract<CostDecision, { kind: "go" }>> {
    const decision = await this.#go(owner, endpointId, estimate);
    if (nonce === undefined || await this.#ledger.claimOnce(nonce, CONFIRM_TTL_SECONDS)) {
      return decision;
    }
    if (decision.charge) await this.#ledger.refund(decision.charge);
    throw new FalMcpError(refusal, { status: 400, code: JsonRpcCode.InvalidParams });
  }

  /** Takes back what a run that was not submitted after all was counted as. */
  async refund(decision: CostDecision): Promise<void> {
    if (decision.kind !== "go" || !decision.charge) return;
    try {
      await this.#ledger.refund(decision.charge);
    } catch (error) {
      this.#options.logger.warn("could not take back the charge of a run that failed to submit", {
        error,
      });
    }
  }

  async #estimate(
    fal: FalClient,
    endpointId: string,
    signal: AbortSignal,
  ): Promise<number | undefined> {
    try {
      const estimate = await estimateCost(fal, endpointId, 1, "calls", signal);
      return estimate.currency === "USD" ? estimate.total_cost : undefined;
    } catch (error) {
      // Without an estimate there is nothing to confirm or count; the run goes ahead.
      this.#options.logger.warn("no cost estimate for a run; not confirming it", {
        endpoint_id: endpointId,
        error,
      });
      return undefined;
    }
  }

  /** Checks a confirm token's signature, expiry and call; returns its one-time nonce. */
  async #verifyToken(token: string, fp: string, ctx: ServerContext): Promise<string> {
    let payload: TokenPayload;
    try {
      payload = await this.#tokens.verify(token, ctx);
    } catch {
      throw new FalMcpError(
        "Invalid confirm_token: it is malformed, expired or from another server. Call the " +
          "tool again without it to get a new one.",
        { status: 400, code: JsonRpcCode.InvalidParams },
      );
    }
    if (payload.fp !== fp) {
      throw new FalMcpError(
        "Invalid confirm_token: it was issued for a different call. Pass it with exactly the " +
          "arguments it was issued for, or call again without it to get a new one.",
        { status: 400, code: JsonRpcCode.InvalidParams },
      );
    }
    return payload.n;
  }
}
