/**
 * A job as the studio and the MCP App view show it: the record's facts, its media (URLs to
 * fal's hosts, data URIs elided), its kind, timings and its cost.
 *
 * @module
 */

import type { JobRecord } from "../jobs/types.ts";
import { elideDataUris, findMediaFiles } from "../files/media_files.ts";

/** The kind of media a job made. */
export type MediaKind = "image" | "video" | "audio" | "text" | "other";

/** One media item of a job. */
export interface MediaItem {
  /** Where it is (fal's CDN). */
  url: string;
  /** image, video or audio. */
  kind: MediaKind;
  /** MIME type, when known. */
  content_type?: string | undefined;
  /** Width in pixels, when known. */
  width?: number | undefined;
  /** Height in pixels, when known. */
  height?: number | undefined;
}

/** A job for display. */
export interface JobView {
  /** fal's request id. */
  id: string;
  /** The endpoint. */
  endpoint_id: string;
  /** Where it stands. */
  status: JobRecord["status"];
  /** Position in fal's queue while queued. */
  queue_position?: number | undefined;
  /** Recent log lines. */
  logs: string[];
  /** Progress 0..1, when fal's logs tell it. */
  progress?: number | undefined;
  /** The input that was submitted (data URIs elided). */
  input: unknown;
  /** The model's output (data URIs elided). */
  result?: unknown;
  /** Why it failed. */
  error?: string | undefined;
  /** The media it made. */
  media: MediaItem[];
  /** What kind of media it made (or would make). */
  kind: MediaKind;
  /** Which tool submitted it. */
  tool?: string | undefined;
  /** When fal accepted it. */
  created_at: string;
  /** When it finished. */
  finished_at?: string | undefined;
  /** Wall time from submit to finish, in ms. */
  duration_ms?: number | undefined;
  /** fal's inference time in seconds. */
  inference_seconds?: number | undefined;
  /** Estimated cost (fal's average per call of this endpoint), when known. */
  cost?: number | undefined;
  /** Currency of `cost`. */
  currency?: string | undefined;
}

const num = (v: unknown): number | undefined => typeof v === "number" ? v : undefined;

/** The kind of a media file from its MIME type or extension. */
export function mediaKindOf(url: string, contentType: string | undefined): MediaKind {
  const type = contentType ?? "";
  if (type.startsWith("image/")) return "image";
  if (type.startsWith("video/")) return "video";
  if (type.startsWith("audio/")) return "audio";
  const path = url.split("?")[0]!.toLowerCase();
  if (/\.(png|jpe?g|webp|gif|avif)$/.test(path)) return "image";
  if (/\.(mp4|webm|mov|mkv)$/.test(path)) return "video";
  if (/\.(mp3|wav|ogg|flac|m4a|aac)$/.test(path)) return "audio";
  return "other";
}

/** The kind a job is expected to make, from its endpoint and tool, before it has a result. */
export function expectedKind(endpointId: string, tool: string | undefined): MediaKind {
  const hint = `${endpointId} ${tool ?? ""}`.toLowerCase();
  if (/video|i2v|t2v|kling|wan|animate/.test(hint)) return "video";
  if (/music|speech|tts|audio|lyria|kokoro/.test(hint)) return "audio";
  if (/whisper|transcri/.test(hint)) return "text";
  return "image";
}

/** Progress from fal log lines such as `45%` or `step 9/20`, when any tells it. */
export function progressOf(logs: readonly string[]): number | undefined {
  for (let i = logs.length - 1; i >= 0; i--) {
    const line = logs[i]!;
    const percent = /(\d{1,3}(?:\.\d+)?)\s*%/.exec(line);
    if (percent) return Math.min(1, Number(percent[1]) / 100);
    const steps = /(\d+)\s*\/\s*(\d+)/.exec(line);
    if (steps && Number(steps[2]) > 0) return Math.min(1, Number(steps[1]) / Number(steps[2]));
  }
  return undefined;
}

/** Builds the view of a record; `cost` is the estimated cost of one call, when known. */
export function jobView(
  record: JobRecord,
  cost?: { amount: number; currency: string } | undefined,
): JobView {
  const files = record.result === undefined ? [] : findMediaFiles(record.result);
  const media = files
    .filter((f) => !f.url.startsWith("data:"))
    .map((f): MediaItem => ({
      url: f.url,
      kind: mediaKindOf(f.url, f.contentType),
      content_type: f.contentType,
      width: f.width,
      height: f.height,
    }));
  const logs = record.logs.map((l) => l.message);
  const finished = record.finishedAt ? Date.parse(record.finishedAt) : undefined;
  return {
    id: record.id,
    endpoint_id: record.endpointId,
    status: record.status,
    queue_position: record.status === "IN_QUEUE" ? record.queuePosition : undefined,
    logs,
    progress: record.status === "COMPLETED" ? 1 : progressOf(logs),
    input: elideDataUris(record.input),
    result: record.result === undefined ? undefined : elideDataUris(record.result),
    error: record.error,
    media,
    kind: media[0]?.kind ?? expectedKind(record.endpointId, record.tool),
    tool: record.tool,
    created_at: record.createdAt,
    finished_at: record.finishedAt,
    duration_ms: finished === undefined ? undefined : finished - Date.parse(record.createdAt),
    inference_seconds: num(record.metrics?.inference_time),
    cost: record.status === "COMPLETED" ? cost?.amount : undefined,
    currency: record.status === "COMPLETED" ? cost?.currency : undefined,
  };
}
