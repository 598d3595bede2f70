/**
 * The MCP App (`io.modelcontextprotocol/ui` extension): one `ui://` view of fal media, linked
 * from every media-producing tool through `_meta.ui.resourceUri`, and the app-only tools it
 * calls (`media_job` to follow a job, `media_action` for upscale, remove background, animate,
 * variations and save). Media load from fal's hosts by URL, declared in the view's CSP. Hosts
 * without Apps ignore the link and keep the tools' text and links.
 *
 * @module
 */

import { mediaActionOutput, mediaJobOutput } from "../tools/output_schemas.ts";
import {
  registerAppResource,
  registerAppTool,
  RESOURCE_MIME_TYPE,
} from "@modelcontextprotocol/ext-apps/server";
import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ServerDeps } from "../context.ts";
import { REAL_FAL_HOSTS } from "../fal/hosts.ts";
import { saveMediaFiles } from "../files/save_output.ts";
import { FalMcpError, JsonRpcCode } from "../errors.ts";
import type { JobRecord } from "../jobs/types.ts";
import { CallCosts } from "../studio/costs.ts";
import { type JobView, jobView } from "../studio/job_view.ts";
import { guarded } from "../tools/tool_result.ts";
import { IMAGE_TO_VIDEO_MODEL } from "../tools/tasks/generate_video.ts";
import { REMOVE_BACKGROUND_MODEL } from "../tools/tasks/remove_background.ts";
import { UPSCALE_IMAGE_MODEL } from "../tools/tasks/upscale_image.ts";
import { MCP_APP_HTML } from "./assets.ts";

/** The view's URI. */
export const MEDIA_APP_URI = "ui://fal-mcp/media.html";

/** Tools whose results the view shows (each answers a `job_id`). */
export const MEDIA_TOOLS: ReadonlySet<string> = new Set([
  "generate_image",
  "edit_image",
  "remove_background",
  "upscale_image",
  "generate_video",
  "generate_music",
  "text_to_speech",
  "run_model",
  "submit_job",
  "get_job",
]);

/** Where fal serves generated media (its CDN hosts). */
const FAL_MEDIA_DOMAINS = ["https://fal.media", "https://*.fal.media", "https://*.fal.run"];

/** The origins the view may load media from: fal's CDN, or the one origin of a local fake. */
export function mediaDomains(deps: Pick<ServerDeps, "fal">): string[] {
  const queue = deps.fal.hosts.queue;
  if (queue === REAL_FAL_HOSTS.queue) return FAL_MEDIA_DOMAINS;
  return [new URL(queue).origin];
}

const costs = new CallCosts();

async function view(deps: ServerDeps, record: JobRecord): Promise<JobView> {
  return jobView(
    record,
    record.status === "COMPLETED" ? await costs.perCall(deps.fal, record.endpointId) : undefined,
  );
}

/**
 * Makes every later registration of a tool in {@linkcode MEDIA_TOOLS} link the view: it goes
 * through ext-apps' `registerAppTool` with `_meta.ui.resourceUri`. Call before registering.
 */
export function linkMediaTools(server: McpServer): void {
  const original = server.registerTool.bind(server);
  const plain = { registerTool: original } as Pick<McpServer, "registerTool">;
  server.registerTool = ((name: string, config: { _meta?: Record<string, unknown> }, cb: never) => {
    if (!MEDIA_TOOLS.has(name)) return original(name, config as never, cb);
    const meta = config._meta ?? {};
    const ui = (meta.ui ?? {}) as Record<string, unknown>;
    return registerAppTool(plain, name, {
      ...config,
      _meta: { ...meta, ui: { ...ui, resourceUri: MEDIA_APP_URI } },
    } as never, cb);
  }) as McpServer["registerTool"];
}

const ACTIONS = ["upscale", "remove_background", "animate", "variations", "save"] as const;

/** Input of `media_action`. */
export const mediaActionInput = z.object({
  action: z.enum(ACTIONS).describe("What to do with the item"),
  job_id: z.string().min(1).max(128).describe("The job whose media item it is"),
  url: z.string().url().max(4096).describe("The media item's URL (one of the job's outputs)"),
});

const jobSummary = (job: JobView) => `Job ${job.id} (${job.endpoint_id}) is ${job.status}.`;

/** Registers the view resource and its app-only tools. */
export function registerMediaApp(server: McpServer, deps: ServerDeps): void {
  const csp = { resourceDomains: mediaDomains(deps) };
  registerAppResource(server, "fal media view", MEDIA_APP_URI, {
    title: "fal media",
    description: "Shows the images, videos and audio of fal-mcp's tool results, with actions",
    _meta: { ui: { csp, prefersBorder: true } },
  }, () => ({
    contents: [{
      uri: MEDIA_APP_URI,
      mimeType: RESOURCE_MIME_TYPE,
      text: MCP_APP_HTML,
      _meta: { ui: { csp, prefersBorder: true } },
    }],
  }));

  registerAppTool(server, "media_job", {
    title: "Follow a job (media view)",
    description: "The caller's job with its media, status, queue position, logs and cost, " +
      "for the media view.",
    inputSchema: z.object({ job_id: z.string().min(1).max(128) }),
    outputSchema: mediaJobOutput,
    annotations: { readOnlyHint: true, openWorldHint: false },
    _meta: { ui: { resourceUri: MEDIA_APP_URI, visibility: ["app"] } },
  }, (args) =>
    guarded("media_job", deps, async () => {
      const job = await view(deps, await deps.jobs.get(deps, args.job_id));
      return {
        content: [{ type: "text", text: jobSummary(job) }],
        structuredContent: { job } as unknown as Record<string, unknown>,
      };
    }));

  registerAppTool(server, "media_action", {
    title: "Act on a media item (media view)",
    description: "Upscale, remove the background of, animate, vary or save one media item of " +
      "the caller's job. Upscale, remove background, animate and variations start a new job " +
      "(billed by fal); save writes the file to the server's --output-dir, when it has one.",
    inputSchema: mediaActionInput,
    outputSchema: mediaActionOutput,
    // Starts a new (billed) job or writes a new file; never changes or removes what exists.
    annotations: { destructiveHint: false },
    _meta: { ui: { resourceUri: MEDIA_APP_URI, visibility: ["app"] } },
  }, (args, ctx) =>
    guarded("media_action", deps, async () => {
      const source = await deps.jobs.get(deps, args.job_id);
      const item = jobView(source).media.find((m) => m.url === args.url);
      if (!item) {
        throw new FalMcpError(
          `The URL is not one of job ${args.job_id}'s outputs: act only on the job's own media`,
          { status: 400, code: JsonRpcCode.InvalidParams },
        );
      }
      if (args.action === "save") {
        // Writing to the server's disk is the operator's choice: only into --output-dir.
        if (deps.settings.outputDir === undefined) {
          throw new FalMcpError(
            "Save is off: this server has no output folder. Its operator can set one with " +
              "--output-dir (FAL_MCP_OUTPUT_DIR); the media stay at their URL meanwhile.",
            { status: 400, code: JsonRpcCode.InvalidParams },
          );
        }
        const saved = await saveMediaFiles(
          [{ url: item.url, contentType: item.content_type, path: "output" }],
          deps.settings.outputDir,
          { signal: ctx.mcpReq.signal, fetch: deps.media.fetch },
        );
        const paths = saved.map((f) => f.path);
        return {
          content: [{ type: "text", text: `Saved to ${paths.join(", ")}` }],
          structuredContent: { saved: paths },
        };
      }
      const models = deps.settings.models;
      const prompt = (source.input as { prompt?: unknown } | undefined)?.prompt;
      const [endpointId, input] = args.action === "upscale"
        ? [models.upscale_image ?? UPSCALE_IMAGE_MODEL, { image_url: item.url }]
        : args.action === "remove_background"
        ? [models.remove_background ?? REMOVE_BACKGROUND_MODEL, { image_url: item.url }]
        : args.action === "animate"
        ? [
          models.generate_video_from_image ?? IMAGE_TO_VIDEO_MODEL,
          { image_url: item.url, prompt: typeof prompt === "string" ? prompt : "gentle motion" },
        ]
        : [source.endpointId, {
          ...(source.input as Record<string, unknown>),
          seed: Math.floor(Math.random() * 2 ** 31),
        }];
      const record = await deps.jobs.submit(deps, endpointId, input, {
        tool: `media_action:${args.action}`,
        signal: ctx.mcpReq.signal,
      });
      const job = await view(deps, record);
      return {
        content: [{ type: "text", text: jobSummary(job) }],
        structuredContent: { job } as unknown as Record<string, unknown>,
      };
    }));
}
