/**
 * How a job is shown to the model: a status line while it runs; when it completed, the media as
 * resource links (images also as small inline previews) and saved to local files when asked.
 *
 * @module
 */

import type { CallToolResult, ContentBlock } from "@modelcontextprotocol/server";
import type { ServerDeps } from "../context.ts";
import { saveMediaFiles, savingOff } from "../files/save_output.ts";
import type { JobRecord } from "../jobs/types.ts";
import { elideDataUris, findMediaFiles } from "../files/media_files.ts";
import { outputContent } from "./media_content.ts";
import { imagePreviews } from "./image_previews.ts";

/**
 * Most images inlined into one result, however many it lists: each preview is fetched and held
 * (base64) in the answer, so their number is bounded; the rest are links.
 */
export const MAX_INLINE_IMAGES = 4;

/** Options for {@linkcode presentJob}. */
export interface PresentOptions {
  /** Save the job's media under this folder of the output directory. */
  saveTo?: string | undefined;
  /** Aborts downloads. */
  signal?: AbortSignal | undefined;
  /** Extra lines for the summary (e.g. inputs a model did not take). */
  notes?: string[] | undefined;
  /** Extra lines describing a finished result (e.g. a transcript). */
  describe?: ((result: unknown) => string[]) | undefined;
}

/** A compact, JSON-safe view of a job for `structuredContent`. */
export function jobSummary(record: JobRecord): Record<string, unknown> {
  return {
    job_id: record.id,
    endpoint_id: record.endpointId,
    status: record.status,
    queue_position: record.queuePosition,
    created_at: record.createdAt,
    finished_at: record.finishedAt,
    error: record.error,
    tool: record.tool,
  };
}

function runningText(record: JobRecord, notes: readonly string[]): string {
  const where = record.status === "IN_QUEUE"
    ? `in fal's queue${
      record.queuePosition !== undefined ? ` at position ${record.queuePosition}` : ""
    }`
    : "running";
  const logs = record.logs.slice(-5).map((l) => `  ${l.message}`);
  return [
    `Job ${record.id} (${record.endpointId}) is ${where}.`,
    ...notes,
    ...(logs.length ? ["Recent logs:", ...logs] : []),
    `It keeps running on fal. Check it with get_job {"job_id": "${record.id}", "wait_seconds": 30}; ` +
    "the result is kept when it finishes.",
  ].join("\n");
}

/** Builds the tool result for a job as it now stands. */
export async function presentJob(
  record: JobRecord,
  deps: ServerDeps,
  options: PresentOptions = {},
): Promise<CallToolResult> {
  const structured = jobSummary(record);
  if (record.status === "IN_QUEUE" || record.status === "IN_PROGRESS") {
    return {
      content: [{ type: "text", text: runningText(record, options.notes ?? []) }],
      structuredContent: structured,
    };
  }
  if (record.status === "PENDING") {
    return {
      content: [{
        type: "text",
        text: `Job ${record.id} (${record.endpointId}): its submit was interrupted before fal ` +
          "answered. It is being matched with fal's records of recent requests; list_jobs " +
          "shows it under fal's request id once found.",
      }],
      structuredContent: structured,
    };
  }
  if (record.status === "FAILED" || record.status === "UNKNOWN") {
    return {
      isError: true,
      content: [{
        type: "text",
        text: record.status === "UNKNOWN"
          ? `Job ${record.id} (${record.endpointId}): outcome unknown. ${record.error}`
          : `Job ${record.id} (${record.endpointId}) failed: ${record.error}`,
      }],
      structuredContent: structured,
    };
  }
  if (record.status === "CANCELLED" && record.result === undefined) {
    return {
      content: [{ type: "text", text: `Job ${record.id} (${record.endpointId}) was cancelled.` }],
      structuredContent: structured,
    };
  }

  const files = findMediaFiles(record.result);
  const seconds = record.metrics?.inference_time;
  const lines = [
    `${record.endpointId} finished (job ${record.id}${
      typeof seconds === "number" ? `, ${seconds.toFixed(2)} s inference` : ""
    }).`,
    ...(options.notes ?? []),
    ...(options.describe?.(record.result) ?? []),
  ];
  const { settings, media } = deps;
  const saveTo = options.saveTo ?? (settings.outputDir !== undefined ? "" : undefined);
  if (saveTo !== undefined && files.length) {
    if (settings.saveBaseDir === undefined) throw savingOff();
    // Only fal's media (and inline data) is downloaded; any other URL stays a link.
    let skipped = 0;
    const saved = await saveMediaFiles(files, settings.saveBaseDir, {
      subdir: saveTo || undefined,
      signal: options.signal,
      fetch: media.fetch,
      onRefused: (file, error) => {
        skipped++;
        deps.logger.info("result file not downloaded", { path: file.path, reason: error.message });
      },
    });
    for (const file of saved) {
      lines.push(
        `Saved ${file.url.startsWith("data:") ? "inline data" : file.url} to ${file.path}`,
      );
    }
    if (skipped) {
      lines.push(`Not saved: ${skipped} file(s) not on fal's media hosts (their links are below).`);
    }
    structured.saved_files = saved.map((f) => f.path);
  }
  // Previews: the first few images on fal's media hosts (a failed one makes room for the next,
  // up to twice the bound in tries).
  const candidates = files.filter((f) =>
    /^image\//i.test(f.contentType ?? "") && (f.url.startsWith("data:") || !media.refusal(f.url))
  ).slice(0, 2 * MAX_INLINE_IMAGES);
  const previews = await imagePreviews(
    candidates,
    settings.inlineMaxBytes,
    options.signal,
    media.fetch,
    MAX_INLINE_IMAGES,
  );
  lines.push(...previews.map((p) => p.line));
  const content: ContentBlock[] = outputContent(lines.join("\n"), record.result, files);
  content.push(...previews.map((p) => p.block));
  structured.result = elideDataUris(record.result);
  return { content, structuredContent: structured };
}
