/**
 * `get_pricing`: what fal charges per unit for endpoints. Full endpoint ids are priced directly;
 * an app-level id such as `fal-ai/flux` (which fal's pricing API answers 404 for) is resolved to
 * its endpoints through the models catalogue first. Ids fal does not know are named.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import type { FalClient } from "../fal/client.ts";
import { parseEndpointId } from "../fal/endpoint_id.ts";
import { FalApiError } from "../fal/errors.ts";
import { type EndpointPrice, fetchPricing, formatAmount } from "../fal/platform.ts";
import { FalMcpError, JsonRpcCode } from "../errors.ts";
import { guarded, textResult } from "./tool_result.ts";
import { READS_FAL } from "./annotations.ts";
import { toolSchema } from "./tool_schema.ts";
import { pricingOutput } from "./output_schemas.ts";

/** Input schema of `get_pricing`. */
export const getPricingInput = z.object({
  endpoint_ids: z.array(z.string().min(3).max(200)).min(1).max(50).describe(
    'e.g. ["fal-ai/flux/dev"]',
  ),
});

/** Endpoints listed at most per app-level id. */
const MAX_ENDPOINTS_PER_APP = 50;
/** Catalogue pages searched per app-level id. */
const MAX_SEARCH_PAGES = 5;
/** Parallel pricing calls when a batch has to be split to find the unknown ids. */
const SPLIT_CONCURRENCY = 8;

const isNotFound = (error: unknown) => error instanceof FalApiError && error.falStatus === 404;

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Prices `ids`, answering which ids fal had no price for. fal answers 404 for a whole batch when
 * one id is unknown, so a 404 batch is priced id by id to tell the known from the unknown.
 */
async function priceEach(
  fal: FalClient,
  ids: readonly string[],
  signal: AbortSignal,
): Promise<{ prices: EndpointPrice[]; missing: string[] }> {
  if (ids.length === 0) return { prices: [], missing: [] };
  let prices: EndpointPrice[];
  try {
    prices = await fetchPricing(fal, ids, signal);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    if (ids.length === 1) return { prices: [], missing: [...ids] };
    const parts = await mapLimit(ids, SPLIT_CONCURRENCY, (id) => priceEach(fal, [id], signal));
    return {
      prices: parts.flatMap((p) => p.prices),
      missing: parts.flatMap((p) => p.missing),
    };
  }
  const priced = new Set(prices.map((p) => p.endpoint_id));
  return { prices, missing: ids.filter((id) => !priced.has(id)) };
}

/** The catalogue's endpoints under an app-level id (`app + "/"` prefix), sorted. */
async function resolveApp(fal: FalClient, app: string, signal: AbortSignal): Promise<string[]> {
  const prefix = `${app}/`;
  const found = new Set<string>();
  // Search by the whole id first, then by the app name alone (free-text search may not match
  // an id with its owner).
  const alias = app.split("/").at(-1) ?? app;
  for (const q of alias === app ? [app] : [app, alias]) {
    let cursor: string | undefined;
    for (let page = 0; page < MAX_SEARCH_PAGES; page++) {
      const result = await fal.listModels({ q, limit: 100, cursor }, signal);
      for (const model of result.models) {
        if (model.endpoint_id.startsWith(prefix)) found.add(model.endpoint_id);
      }
      if (!result.has_more || !result.next_cursor || found.size >= MAX_ENDPOINTS_PER_APP) break;
      cursor = result.next_cursor;
    }
    if (found.size > 0) break;
  }
  return [...found].sort().slice(0, MAX_ENDPOINTS_PER_APP);
}

function priceLine(price: EndpointPrice | undefined, id: string, indent = ""): string {
  return price
    ? `${indent}- ${id}: ${formatAmount(price.unit_price, price.currency)} per ${price.unit}`
    : `${indent}- ${id}: fal publishes no price for it`;
}

function unknownMessage(ids: readonly string[]): string {
  const names = ids.map((id) => `"${id}"`).join(", ");
  return `Unknown endpoint id${ids.length > 1 ? "s" : ""} ${names}: fal has no price for ` +
    `${ids.length > 1 ? "them" : "it"} and no model in the catalogue lives under ` +
    `${ids.length > 1 ? "those names" : "that name"}. Use search_models to find the full ` +
    'endpoint id (for example "fal-ai/flux/dev").';
}

/** Registers `get_pricing`. */
export function registerGetPricing(
  server: McpServer,
  deps: Pick<ServerDeps, "fal" | "logger">,
): void {
  server.registerTool("get_pricing", {
    title: "Get fal model prices",
    description: "fal's price per billing unit (image, second…) of up to 50 endpoints. Free.",
    inputSchema: toolSchema(getPricingInput),
    outputSchema: pricingOutput,
    annotations: READS_FAL,
  }, (args, ctx) =>
    guarded("get_pricing", deps, async () => {
      const signal = ctx.mcpReq.signal;
      const ids = [...new Set(args.endpoint_ids.map((id) => parseEndpointId(id).full))];
      const direct = await priceEach(deps.fal, ids, signal);

      const resolved: Record<string, string[]> = {};
      const unknown: string[] = [];
      const expansions = await mapLimit(
        direct.missing,
        4,
        async (id) => [id, await resolveApp(deps.fal, id, signal)] as const,
      );
      for (const [id, endpoints] of expansions) {
        if (endpoints.length > 0) resolved[id] = endpoints;
        else unknown.push(id);
      }
      if (unknown.length === ids.length) {
        throw new FalMcpError(unknownMessage(unknown), {
          status: 404,
          code: JsonRpcCode.InvalidParams,
        });
      }

      const byId = new Map(direct.prices.map((p) => [p.endpoint_id, p]));
      const toPrice = [...new Set(Object.values(resolved).flat())].filter((id) => !byId.has(id));
      const expanded = await priceEach(deps.fal, toPrice, signal);
      for (const price of expanded.prices) byId.set(price.endpoint_id, price);

      const lines: string[] = [];
      for (const id of ids) {
        const endpoints = resolved[id];
        if (endpoints) {
          lines.push(
            `- ${id} (app-level id; ${endpoints.length} endpoint${
              endpoints.length === 1 ? "" : "s"
            }):`,
          );
          for (const endpoint of endpoints) {
            lines.push(priceLine(byId.get(endpoint), endpoint, "  "));
          }
        } else if (!unknown.includes(id)) {
          lines.push(priceLine(byId.get(id), id));
        }
      }
      const text = [
        "fal prices per billing unit:",
        ...lines,
        ...(unknown.length ? ["", unknownMessage(unknown)] : []),
      ].join("\n");
      return textResult(text, {
        prices: [...byId.values()],
        resolved,
        unknown,
      });
    }));
}
