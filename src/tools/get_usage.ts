/**
 * `get_usage`: what the account used and spent on fal in a time window, per model. fal reports
 * quantity and unit price per endpoint; the cost of each line is quantity × unit price, and the
 * grand total is summed per currency.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import { parseEndpointId } from "../fal/endpoint_id.ts";
import { fetchUsage, formatAmount, roundAmount } from "../fal/platform.ts";
import { invalidParams } from "../errors.ts";
import { guarded, textResult } from "./tool_result.ts";
import { READS_FAL } from "./annotations.ts";
import { toolSchema } from "./tool_schema.ts";
import { usageOutput } from "./output_schemas.ts";

/** Input schema of `get_usage`. */
export const getUsageInput = z.object({
  start: z.string().min(1).max(40).describe(
    'ISO date or date-time (UTC), e.g. "2025-01-01"',
  ),
  end: z.string().min(1).max(40).optional().describe(
    "Exclusive (default now)",
  ),
  endpoint_id: z.string().min(3).max(200).optional().describe(
    "Only this endpoint",
  ),
});

/** fal bills in US dollars; a usage line without a currency is taken to be USD. */
const DEFAULT_CURRENCY = "USD";

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses an ISO 8601 date or date-time into a Date, refusing what `Date` would silently bend
 * (February 30th, hour 25) and treating a date-time without an offset as UTC.
 */
function parseInstant(value: string, name: string): Date {
  const text = value.trim();
  const bad = () =>
    invalidParams(
      `Invalid ${name} "${value}": expected an ISO 8601 date such as "2025-01-31" or a ` +
        'date-time such as "2025-01-31T12:00:00Z"',
    );
  const match = DATE.exec(text) ?? DATE_TIME.exec(text);
  if (!match) throw bad();
  const [year, month, day, hour = "0", minute = "0", second = "0"] = match.slice(1);
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (
    calendar.getUTCFullYear() !== Number(year) || calendar.getUTCMonth() !== Number(month) - 1 ||
    calendar.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 ||
    Number(second) > 59
  ) {
    throw bad();
  }
  if (match.length === 4) return calendar;
  const normal = `${text.slice(0, 10)}T${text.slice(11)}`.toUpperCase();
  const date = new Date(match[7] ? normal : `${normal}Z`);
  if (Number.isNaN(date.getTime())) throw bad();
  return date;
}

/** One row of the usage report. */
interface UsageRow {
  endpoint_id: string;
  quantity: number;
  unit: string;
  unit_price: number;
  cost: number;
  currency: string;
}

function table(rows: readonly UsageRow[]): string[] {
  return [
    "| endpoint | quantity | unit | unit price | cost |",
    "| --- | ---: | --- | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.endpoint_id} | ${roundAmount(r.quantity)} | ${r.unit} | ${
        formatAmount(r.unit_price, r.currency)
      } | ${formatAmount(r.cost, r.currency)} |`
    ),
  ];
}

/** Registers `get_usage`. */
export function registerGetUsage(
  server: McpServer,
  deps: Pick<ServerDeps, "fal" | "logger">,
): void {
  server.registerTool("get_usage", {
    title: "Get fal usage and spend",
    description: "What this fal account spent in a time window, per model and in total. Free.",
    inputSchema: toolSchema(getUsageInput),
    outputSchema: usageOutput,
    annotations: READS_FAL,
  }, (args, ctx) =>
    guarded("get_usage", deps, async () => {
      const start = parseInstant(args.start, "start");
      const end = args.end === undefined ? new Date() : parseInstant(args.end, "end");
      if (start.getTime() >= end.getTime()) {
        throw invalidParams(
          `start (${start.toISOString()}) must be before end (${end.toISOString()}${
            args.end === undefined ? ", now" : ""
          })`,
        );
      }
      const endpointId = args.endpoint_id === undefined
        ? undefined
        : parseEndpointId(args.endpoint_id).full;
      const report = await fetchUsage(deps.fal, {
        start: start.toISOString(),
        end: end.toISOString(),
        endpointIds: endpointId ? [endpointId] : undefined,
      }, ctx.mcpReq.signal);

      const rows: UsageRow[] = report.lines.map((line) => ({
        endpoint_id: line.endpoint_id,
        quantity: line.quantity,
        unit: line.unit,
        unit_price: line.unit_price,
        cost: roundAmount(line.quantity * line.unit_price),
        currency: line.currency ?? DEFAULT_CURRENCY,
      })).sort((a, b) => b.cost - a.cost || a.endpoint_id.localeCompare(b.endpoint_id));
      const totals: Record<string, number> = {};
      for (const row of rows) {
        totals[row.currency] = roundAmount((totals[row.currency] ?? 0) + row.cost);
      }

      const window = `${start.toISOString()} to ${end.toISOString()}${
        endpointId ? ` for ${endpointId}` : ""
      }`;
      const totalText = Object.entries(totals).map(([currency, amount]) =>
        formatAmount(amount, currency)
      ).join(" + ");
      const text = rows.length === 0 ? `No fal usage from ${window}.` : [
        `fal usage from ${window}:`,
        "",
        ...table(rows),
        "",
        `Total: ${totalText}`,
      ].join("\n");
      const note = report.truncated
        ? `\nPartial: fal had more than ${report.pages} pages of usage; narrow the window for ` +
          "complete totals."
        : "";
      return textResult(text + note, {
        start: start.toISOString(),
        end: end.toISOString(),
        endpoint_id: endpointId ?? null,
        usage: rows,
        totals,
        truncated: report.truncated,
      });
    }));
}
