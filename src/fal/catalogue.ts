/**
 * The fal catalogue of active endpoints, read page by page and kept for a while, for
 * completions (`completion/complete` of endpoint ids) and `recommend_model`. Bounded: at most
 * {@linkcode CATALOGUE_MAX_PAGES} pages of {@linkcode CATALOGUE_PAGE_SIZE} models.
 *
 * @module
 */

import type { FalClient } from "./client.ts";
import type { FalModel } from "./types.ts";

/** Models per catalogue page read. */
export const CATALOGUE_PAGE_SIZE = 100;
/** Most pages read per refresh. */
export const CATALOGUE_MAX_PAGES = 30;
/** How long a read catalogue is kept (ms). */
export const CATALOGUE_TTL_MS = 10 * 60 * 1000;
/** Most completion values answered (the protocol's limit). */
export const MAX_COMPLETIONS = 100;

/** The active fal endpoints, cached. */
export class Catalogue {
  readonly #fal: FalClient;
  readonly #ttlMs: number;
  #models: Promise<FalModel[]> | undefined;
  #readAt = 0;

  /** A catalogue read through `fal`. */
  constructor(fal: FalClient, ttlMs: number = CATALOGUE_TTL_MS) {
    this.#fal = fal;
    this.#ttlMs = ttlMs;
  }

  /** Every active model (read again once older than the TTL). */
  models(signal?: AbortSignal): Promise<FalModel[]> {
    if (!this.#models || Date.now() - this.#readAt > this.#ttlMs) {
      this.#readAt = Date.now();
      const reading = this.#read(signal);
      // A failed read is not kept: the next call tries again.
      reading.catch(() => {
        if (this.#models === reading) this.#models = undefined;
      });
      this.#models = reading;
    }
    return this.#models;
  }

  async #read(signal?: AbortSignal): Promise<FalModel[]> {
    const models: FalModel[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < CATALOGUE_MAX_PAGES; page++) {
      const answer = await this.#fal.listModels(
        { status: "active", limit: CATALOGUE_PAGE_SIZE, cursor },
        signal,
      );
      models.push(...answer.models);
      if (!answer.has_more || !answer.next_cursor) break;
      cursor = answer.next_cursor;
    }
    return models;
  }

  /**
   * Endpoint ids completing `value`: ids starting with it first, then ids containing it, else
   * ids holding its characters in order (a fuzzy match, "fluxdev" → fal-ai/flux/dev); at most
   * {@linkcode MAX_COMPLETIONS}.
   */
  async complete(
    value: string,
    signal?: AbortSignal,
  ): Promise<{ values: string[]; total: number; hasMore: boolean }> {
    const ids = (await this.models(signal)).map((m) => m.endpoint_id);
    const matches = rankCompletions(ids, value);
    return {
      values: matches.slice(0, MAX_COMPLETIONS),
      total: matches.length,
      hasMore: matches.length > MAX_COMPLETIONS,
    };
  }
}

/** Whether the characters of `needle` appear in `haystack` in order. */
function isSubsequence(needle: string, haystack: string): boolean {
  let at = 0;
  for (const char of haystack) if (char === needle[at]) at++;
  return at === needle.length;
}

/** Ranked endpoint ids completing `typed` (at most 1000), or none when fal cannot be read. */
export async function completeEndpointId(
  catalogue: Catalogue,
  typed: string,
): Promise<string[]> {
  try {
    return rankCompletions((await catalogue.models()).map((m) => m.endpoint_id), typed)
      .slice(0, 1000);
  } catch {
    return []; // completions are a convenience: an unreachable catalogue offers nothing
  }
}

/** Ranks ids against what was typed: prefix, name-part prefix, substring; else fuzzy. */
export function rankCompletions(ids: readonly string[], typed: string): string[] {
  const value = typed.trim().toLowerCase();
  if (!value) return [...ids].sort();
  const tiers: string[][] = [[], [], [], []];
  for (const id of ids) {
    const lower = id.toLowerCase();
    const name = lower.slice(lower.indexOf("/") + 1);
    if (lower.startsWith(value)) tiers[0]!.push(id);
    else if (name.startsWith(value)) tiers[1]!.push(id);
    else if (lower.includes(value)) tiers[2]!.push(id);
    else if (isSubsequence(value.replace(/[\s/_-]+/g, ""), lower)) tiers[3]!.push(id);
  }
  // Fuzzy matches only when nothing matches as typed: they are a fallback for typos and gaps.
  const ranked = tiers[0]!.length + tiers[1]!.length + tiers[2]!.length ? tiers.slice(0, 3) : tiers;
  return ranked.flatMap((tier) => tier.sort((a, b) => a.length - b.length || (a < b ? -1 : 1)));
}

const catalogues = new WeakMap<FalClient, Catalogue>();

/** The catalogue read through `fal` (one per client, shared by every server it serves). */
export function catalogueOf(fal: FalClient): Catalogue {
  let catalogue = catalogues.get(fal);
  if (!catalogue) catalogues.set(fal, catalogue = new Catalogue(fal));
  return catalogue;
}
