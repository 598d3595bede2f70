/// <reference lib="dom" />
/** The job shape both views render (the server's `JobView`), and its card. */

import { h, money, seconds } from "./dom.ts";

/** One media item. */
export interface MediaItem {
  url: string;
  kind: "image" | "video" | "audio" | "text" | "other";
  content_type?: string;
  width?: number;
  height?: number;
}

/** A job as the server describes it to the views. */
export interface JobView {
  id: string;
  endpoint_id: string;
  status: "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED" | "FAILED" | "CANCELLED";
  queue_position?: number;
  logs: string[];
  progress?: number;
  input: unknown;
  result?: unknown;
  error?: string;
  media: MediaItem[];
  kind: MediaItem["kind"];
  tool?: string;
  created_at: string;
  finished_at?: string;
  duration_ms?: number;
  inference_seconds?: number;
  cost?: number;
  currency?: string;
}

/** Whether the job will still change. */
export function isRunning(job: JobView): boolean {
  return job.status === "IN_QUEUE" || job.status === "IN_PROGRESS";
}

/** A field of the job's input, when it is a string or number. */
export function inputField(job: JobView, name: string): string | undefined {
  const input = job.input as Record<string, unknown> | undefined;
  const value = input?.[name];
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
}

/** The media element of one item. */
export function mediaElement(item: MediaItem, label: string): HTMLElement {
  if (item.kind === "image") {
    return h("img", { src: item.url, alt: label, loading: "lazy", class: "media" });
  }
  if (item.kind === "video") {
    return h("video", { src: item.url, controls: true, muted: true, loop: true, class: "media" });
  }
  if (item.kind === "audio") return h("audio", { src: item.url, controls: true, class: "audio" });
  return h("a", { href: item.url, target: "_blank", rel: "noopener" }, "open file");
}

/** The status line: queue position, progress and the last log line while running. */
export function statusBlock(job: JobView): HTMLElement {
  const where = job.status === "IN_QUEUE"
    ? `In queue${job.queue_position !== undefined ? ` · position ${job.queue_position}` : ""}`
    : job.status === "IN_PROGRESS"
    ? "Running"
    : job.status === "COMPLETED"
    ? "Done"
    : job.status === "FAILED"
    ? `Failed: ${job.error ?? ""}`
    : "Cancelled";
  const block = h(
    "div",
    { class: `status status-${job.status.toLowerCase()}`, "data-status": job.status },
    h("span", { class: "badge" }, where),
  );
  if (isRunning(job)) {
    const progress = job.progress ?? (job.status === "IN_QUEUE" ? 0 : undefined);
    block.append(
      h(
        "div",
        { class: "bar" },
        h("div", {
          class: progress === undefined ? "fill indeterminate" : "fill",
          style: `width:${Math.round((progress ?? 0.3) * 100)}%`,
        }),
      ),
    );
    const last = job.logs.at(-1);
    if (last) block.append(h("div", { class: "log" }, last));
  }
  return block;
}

/** Facts of a finished job: model, seed, size, duration, cost. */
export function factsLine(job: JobView): HTMLElement {
  const first = job.media[0];
  const size = first?.width && first?.height ? `${first.width}×${first.height}` : undefined;
  const seed = (job.result as { seed?: number } | undefined)?.seed ?? inputField(job, "seed");
  const facts = [
    job.endpoint_id,
    seed !== undefined ? `seed ${seed}` : undefined,
    size,
    job.duration_ms !== undefined ? seconds(job.duration_ms) : undefined,
    job.cost !== undefined ? money(job.cost, job.currency) : undefined,
  ].filter((x) => x !== undefined);
  return h("div", { class: "facts" }, facts.join(" · "));
}
