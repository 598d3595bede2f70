/**
 * `recommend_model`: for a task and constraints (most per run, speed, quality tier), rank fal
 * endpoints from the catalogue and fal's prices, each with the reason it ranks where it does.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import { catalogueOf } from "../fal/catalogue.ts";
import { estimateCost, fetchPricing, roundAmount } from "../fal/platform.ts";
import type { FalModel } from "../fal/types.ts";
import { READS_FAL } from "./annotations.ts";
import { guarded, textResult } from "./tool_result.ts";
import { toolSchema } from "./tool_schema.ts";
import { recommendOutput } from "./output_schemas.ts";

/** Input schema of `recommend_model`. */
export const recommendModelInput = z.object({
  task: z.string().min(2).max(500).describe(
    'e.g. "text to video", "narrate a text"',
  ),
  category: z.string().max(64).optional().describe(
    "e.g. text-to-image (default: guessed)",
  ),
  max_price_usd: z.number().positive().max(10_000).optional().describe(
    "Max USD per run",
  ),
  speed: z.enum(["fast", "any"]).optional().describe("fast or any"),
  quality: z.enum(["draft", "standard", "high", "any"]).optional().describe(
    "draft, standard, high or any",
  ),
  limit: z.number().int().min(1).max(10).optional().describe("Default 5"),
});

type Args = z.infer<typeof recommendModelInput>;

/** Categories guessed from words of the task, first match wins. */
const CATEGORY_HINTS: [RegExp, string][] = [
  [/\b(transcri\w*|subtitle\w*|speech[- ]to[- ]text|asr)\b/i, "speech-to-text"],
  [
    /\b(tts|text[- ]to[- ]speech|narrat\w*|voice ?over|read (it|this) aloud|speak\w*)\b/i,
    "text-to-speech",
  ],
  [/\b(music|song|soundtrack|jingle|audio|sound effects?)\b/i, "text-to-audio"],
  [
    /\b(animate|image[- ]to[- ]video|from (an |a |my )?(image|photo|picture))\b.*\bvideo\b|\bimage[- ]to[- ]video\b/i,
    "image-to-video",
  ],
  [/\b(video|clip|movie|animation)\b/i, "text-to-video"],
  [/\b(edit\w*|background|upscal\w*|enhance|restyle|inpaint\w*|retouch\w*)\b/i, "image-to-image"],
  [/\b(image|picture|photo|illustration|logo|drawing|art|render)\b/i, "text-to-image"],
];

const FAST = /\b(fast|turbo|schnell|lightning|flash|lite|quick)\b/i;
const HIGH = /\b(pro|ultra|master|high-quality|hd|max)\b/i;
const DRAFT = /\b(schnell|lite|turbo|draft|mini)\b/i;

/** The category a task reads as, if any. */
export function guessCategory(task: string): string | undefined {
  return CATEGORY_HINTS.find(([pattern]) => pattern.test(task))?.[1];
}

interface Candidate {
  model: FalModel;
  words: string;
  relevance: number;
  speed: "fast" | "standard";
  quality: "draft" | "standard" | "high";
}

function describe(model: FalModel): Candidate {
  const meta = model.metadata ?? {};
  const words = [model.endpoint_id.replace(/[/_-]/g, " "), meta.display_name, ...(meta.tags ?? [])]
    .join(" ");
  return {
    model,
    words,
    relevance: 0,
    speed: FAST.test(words) ? "fast" : "standard",
    quality: HIGH.test(words) ? "high" : DRAFT.test(words) ? "draft" : "standard",
  };
}

function relevance(candidate: Candidate, task: string): number {
  const text = `${candidate.words} ${candidate.model.metadata?.description ?? ""}`.toLowerCase();
  const terms = task.toLowerCase().split(/[^a-z0-9]+/).filter((t) => t.length > 2);
  return terms.filter((t) => text.includes(t)).length;
}

function usd(amount: number): string {
  return `$${roundAmount(amount).toFixed(amount < 0.1 ? 4 : 2)}`;
}

/** Ranks candidates; answers each with its score inputs and reason. */
async function rank(deps: ServerDeps, args: Args, signal: AbortSignal) {
  const catalogue = deps.catalogue ?? catalogueOf(deps.fal);
  const category = args.category ?? guessCategory(args.task);
  const models = (await catalogue.models(signal)).filter((m) =>
    m.metadata?.status !== "deprecated" && (!category || m.metadata?.category === category)
  );
  const candidates = models.map(describe).map((c) => ({ ...c, relevance: relevance(c, args.task) }))
    .sort((a, b) => b.relevance - a.relevance).slice(0, 15);
  // Price of one run: fal's historical average per call; the unit price when that is unknown.
  const [prices, estimates] = await Promise.all([
    fetchPricing(deps.fal, candidates.map((c) => c.model.endpoint_id), signal).catch(() => []),
    Promise.all(
      candidates.map((c) =>
        estimateCost(deps.fal, c.model.endpoint_id, 1, "calls", signal).then(
          (e) => e.total_cost,
          () => undefined,
        )
      ),
    ),
  ]);
  const quality = args.quality ?? "any";
  const ranked = candidates.map((c, i) => {
    const price = prices.find((p) => p.endpoint_id === c.model.endpoint_id);
    const perRun = estimates[i] ?? price?.unit_price;
    const reasons: string[] = [c.model.metadata?.category ?? "uncategorised"];
    let score = c.relevance;
    if (perRun !== undefined) {
      reasons.push(
        `about ${usd(perRun)} per run${estimates[i] !== undefined ? " (fal's average)" : ""}` +
          (price ? `, ${usd(price.unit_price)} per ${price.unit}` : ""),
      );
      score -= Math.log10(1 + perRun * 100) * (args.max_price_usd ? 0.5 : 1);
    } else reasons.push("price unknown");
    if (quality !== "any") {
      if (c.quality === quality) {
        score += 3;
        reasons.push(`${quality} quality tier`);
      } else reasons.push(`${c.quality} quality tier (wanted ${quality})`);
    } else reasons.push(`${c.quality} quality tier`);
    if (args.speed === "fast") {
      score += c.speed === "fast" ? 3 : 0;
      reasons.push(c.speed === "fast" ? "a fast model" : "not marked fast");
    }
    if (c.relevance) reasons.push(`matches ${c.relevance} word(s) of the task`);
    return { candidate: c, perRun, price, score, reasons };
  }).filter((r) =>
    args.max_price_usd === undefined || (r.perRun !== undefined && r.perRun <= args.max_price_usd)
  ).sort((a, b) => b.score - a.score);
  return { category, ranked: ranked.slice(0, args.limit ?? 5), considered: candidates.length };
}

/** Registers `recommend_model`. */
export function registerRecommendModel(server: McpServer, deps: ServerDeps): void {
  server.registerTool("recommend_model", {
    title: "Recommend a fal model",
    description: "Rank fal models for a task by price, speed and quality, with reasons. Free.",
    inputSchema: toolSchema(recommendModelInput),
    outputSchema: recommendOutput,
    annotations: READS_FAL,
  }, (args, ctx) =>
    guarded("recommend_model", deps, async () => {
      const { category, ranked, considered } = await rank(deps, args, ctx.mcpReq.signal);
      const where = category ? ` in ${category}` : "";
      if (!ranked.length) {
        return textResult(
          `No fal model${where} fits "${args.task}"` +
            (args.max_price_usd !== undefined
              ? ` at ${usd(args.max_price_usd)} or less per run`
              : "") +
            ` (${considered} considered). Loosen a constraint, or try search_models.`,
          { category, recommendations: [] },
        );
      }
      const recommendations = ranked.map((r, i) => ({
        rank: i + 1,
        endpoint_id: r.candidate.model.endpoint_id,
        name: r.candidate.model.metadata?.display_name,
        price_per_run_usd: r.perRun === undefined ? undefined : roundAmount(r.perRun),
        unit_price: r.price?.unit_price,
        unit: r.price?.unit,
        speed: r.candidate.speed,
        quality: r.candidate.quality,
        reason: r.reasons.join("; "),
      }));
      const lines = recommendations.map((r) => `${r.rank}. ${r.endpoint_id}: ${r.reason}`);
      return textResult(
        [`Recommended fal models${where} for "${args.task}":`, ...lines].join("\n") +
          "\nCheck inputs with get_model_schema, then run with run_model (or a task tool's model).",
        { category, recommendations },
      );
    }));
}
