/**
 * `estimate_cost`: what a planned number of calls (or billing units) of one endpoint would cost,
 * from fal's estimate API, with the endpoint's unit price for context.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import { parseEndpointId } from "../fal/endpoint_id.ts";
import { FalApiError } from "../fal/errors.ts";
import { estimateCost, fetchPricing, formatAmount } from "../fal/platform.ts";
import { FalMcpError, JsonRpcCode } from "../errors.ts";
import { guarded, textResult } from "./tool_result.ts";
import { READS_FAL } from "./annotations.ts";
import { toolSchema } from "./tool_schema.ts";
import { estimateOutput } from "./output_schemas.ts";

/** Input schema of `estimate_cost`. */
export const estimateCostInput = z.object({
  endpoint_id: z.string().min(3).max(200).describe(
    'e.g. "fal-ai/flux/dev"',
  ),
  quantity: z.number().positive().max(1e9).describe(
    "Calls, or billing units with basis units",
  ),
  basis: z.enum(["calls", "units"]).optional().describe(
    "calls (default; fal's average per call) or units (billing units)",
  ),
});

/** Registers `estimate_cost`. */
export function registerEstimateCost(
  server: McpServer,
  deps: Pick<ServerDeps, "fal" | "logger">,
): void {
  server.registerTool("estimate_cost", {
    title: "Estimate the cost of fal runs",
    description: "A model's cost for a number of calls or billing units, before running it. Free.",
    inputSchema: toolSchema(estimateCostInput),
    outputSchema: estimateOutput,
    annotations: READS_FAL,
  }, (args, ctx) =>
    guarded("estimate_cost", deps, async () => {
      const signal = ctx.mcpReq.signal;
      const id = parseEndpointId(args.endpoint_id).full;
      const basis = args.basis ?? "calls";
      // The unit price is context only: an estimate without it is still an answer.
      const [estimate, pricing] = await Promise.allSettled([
        estimateCost(deps.fal, id, args.quantity, basis, signal),
        fetchPricing(deps.fal, [id], signal),
      ]);
      if (estimate.status === "rejected") {
        const error = estimate.reason;
        if (error instanceof FalApiError && error.falStatus === 404) {
          throw new FalMcpError(
            `${error.message}. estimate_cost needs a full endpoint id such as ` +
              '"fal-ai/flux/dev"; use get_pricing (which expands app-level ids) or ' +
              "search_models to find it.",
            { status: 404, code: JsonRpcCode.InvalidParams, cause: error },
          );
        }
        throw error;
      }
      const { total_cost, currency, estimate_type } = estimate.value;
      const price = pricing.status === "fulfilled"
        ? pricing.value.find((p) => p.endpoint_id === id)
        : undefined;
      if (pricing.status === "rejected") {
        deps.logger.debug("unit price unavailable for estimate", {
          endpoint_id: id,
          error: pricing.reason,
        });
      }

      const plural = args.quantity === 1 ? "" : "s";
      const amount = basis === "calls"
        ? `${args.quantity} call${plural}`
        : `${args.quantity} billing unit${plural}${price ? ` (${price.unit})` : ""}`;
      const how = basis === "calls"
        ? "based on fal's historical average cost per call of this endpoint"
        : "quantity × unit price";
      const lines = [
        `Estimated cost of ${amount} ${basis === "calls" ? "to" : "of"} ${id}: ${
          formatAmount(total_cost, currency)
        } (${how}).`,
      ];
      if (price) {
        lines.push(
          `Unit price: ${formatAmount(price.unit_price, price.currency)} per ${price.unit}.`,
        );
      }
      const structured: Record<string, unknown> = {
        endpoint_id: id,
        basis,
        quantity: args.quantity,
        estimate_type,
        total_cost,
        currency,
      };
      if (price) {
        structured.unit_price = price.unit_price;
        structured.unit = price.unit;
        structured.unit_currency = price.currency;
      }
      return textResult(lines.join("\n"), structured);
    }));
}
