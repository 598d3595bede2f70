/**
 * Prometheus metrics in the text exposition format: a few counters, gauges and histograms,
 * rendered on `GET /metrics`. Small on purpose: label sets are bounded (transport, method,
 * status class, tool name, fal endpoint), never ids or user input.
 *
 * @module
 */

/** Metric labels, by name (bounded values only: never ids or user input). */
export type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}="${escape(labels[k]!)}"`).join(",");
}

function escape(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

interface Series {
  help: string;
  type: "counter" | "gauge" | "histogram";
}

const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** A metrics registry. */
export class Metrics {
  readonly #series = new Map<string, Series>();
  readonly #values = new Map<string, Map<string, number>>();
  readonly #histograms = new Map<string, Map<string, Histogram>>();
  readonly #gauges = new Map<string, () => Array<[Labels, number]>>();

  /** Declares a metric (first declaration wins). */
  #declare(name: string, series: Series): void {
    if (!this.#series.has(name)) this.#series.set(name, series);
  }

  /** Adds `by` to a counter. */
  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    this.#declare(name, { help, type: "counter" });
    const values = this.#values.get(name) ?? new Map<string, number>();
    this.#values.set(name, values);
    const key = labelKey(labels);
    values.set(key, (values.get(key) ?? 0) + by);
  }

  /** Adds `delta` (may be negative) to a gauge kept here (not read from elsewhere). */
  add(name: string, help: string, labels: Labels, delta: number): void {
    this.#declare(name, { help, type: "gauge" });
    const values = this.#values.get(name) ?? new Map<string, number>();
    this.#values.set(name, values);
    const key = labelKey(labels);
    values.set(key, (values.get(key) ?? 0) + delta);
  }

  /** Records a duration in seconds in a histogram. */
  observe(name: string, help: string, labels: Labels, seconds: number): void {
    this.#declare(name, { help, type: "histogram" });
    const series = this.#histograms.get(name) ?? new Map<string, Histogram>();
    this.#histograms.set(name, series);
    const key = labelKey(labels);
    const histogram = series.get(key) ??
      { counts: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
    series.set(key, histogram);
    DURATION_BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) histogram.counts[i]!++;
    });
    histogram.sum += seconds;
    histogram.count++;
  }

  /** Declares a gauge whose values are read when metrics are rendered. */
  gauge(name: string, help: string, read: () => Array<[Labels, number]>): void {
    this.#declare(name, { help, type: "gauge" });
    this.#gauges.set(name, read);
  }

  /** Renders every metric in the Prometheus text format. */
  async render(): Promise<string> {
    const lines: string[] = [];
    for (const [name, series] of this.#series) {
      lines.push(`# HELP ${name} ${series.help}`, `# TYPE ${name} ${series.type}`);
      if (series.type === "counter") {
        for (const [key, value] of this.#values.get(name) ?? []) {
          lines.push(`${name}${key ? `{${key}}` : ""} ${value}`);
        }
      } else if (series.type === "gauge") {
        for (const [key, value] of this.#values.get(name) ?? []) {
          lines.push(`${name}${key ? `{${key}}` : ""} ${value}`);
        }
        const read = this.#gauges.get(name);
        for (const [labels, value] of read ? await Promise.resolve(read()) : []) {
          const key = labelKey(labels);
          lines.push(`${name}${key ? `{${key}}` : ""} ${value}`);
        }
      } else {
        for (const [key, h] of this.#histograms.get(name) ?? []) {
          const sep = key ? `${key},` : "";
          DURATION_BUCKETS.forEach((bound, i) => {
            lines.push(`${name}_bucket{${sep}le="${bound}"} ${h.counts[i]}`);
          });
          lines.push(`${name}_bucket{${sep}le="+Inf"} ${h.count}`);
          lines.push(`${name}_sum${key ? `{${key}}` : ""} ${h.sum}`);
          lines.push(`${name}_count${key ? `{${key}}` : ""} ${h.count}`);
        }
      }
    }
    return lines.join("\n") + "\n";
  }
}
