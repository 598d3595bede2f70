/**
 * Spend from the caller's own jobs: each completed job costs fal's average per call of its
 * endpoint; summed per day (UTC) and per model.
 *
 * @module
 */

import type { JobRecord } from "../jobs/types.ts";
import type { Amount } from "./costs.ts";

/** Spend of one day or one model. */
export interface SpendLine {
  /** The day (`YYYY-MM-DD`) or the endpoint id. */
  key: string;
  /** Completed jobs counted. */
  jobs: number;
  /** Their estimated cost. */
  cost: number;
}

/** Spend per day and per model. */
export interface Spend {
  /** Currency of every amount. */
  currency: string;
  /** Total estimated cost. */
  total: number;
  /** Per UTC day, newest first. */
  days: SpendLine[];
  /** Per model, most spent first. */
  models: SpendLine[];
  /** Completed jobs whose cost fal could not tell. */
  unpriced: number;
}

function add(lines: Map<string, SpendLine>, key: string, cost: number): void {
  const line = lines.get(key) ?? { key, jobs: 0, cost: 0 };
  line.jobs++;
  line.cost += cost;
  lines.set(key, line);
}

const round = (n: number): number => Math.round(n * 1e6) / 1e6;

/** Sums the estimated cost of the completed jobs among `records`. */
export async function spendOf(
  records: readonly JobRecord[],
  perCall: (endpointId: string) => Promise<Amount | undefined>,
): Promise<Spend> {
  const done = records.filter((r) => r.status === "COMPLETED");
  const prices = new Map<string, Amount | undefined>();
  for (const id of new Set(done.map((r) => r.endpointId))) prices.set(id, await perCall(id));
  const days = new Map<string, SpendLine>();
  const models = new Map<string, SpendLine>();
  let total = 0;
  let unpriced = 0;
  let currency = "USD";
  for (const record of done) {
    const price = prices.get(record.endpointId);
    if (!price) {
      unpriced++;
      continue;
    }
    currency = price.currency;
    total += price.amount;
    add(days, (record.finishedAt ?? record.createdAt).slice(0, 10), price.amount);
    add(models, record.endpointId, price.amount);
  }
  const rounded = (m: Map<string, SpendLine>) =>
    [...m.values()].map((l) => ({ ...l, cost: round(l.cost) }));
  return {
    currency,
    total: round(total),
    days: rounded(days).sort((a, b) => b.key.localeCompare(a.key)),
    models: rounded(models).sort((a, b) => b.cost - a.cost),
    unpriced,
  };
}
