/**
 * The one factory: builds an MCP server with every tool, resource and prompt. Every transport
 * (stdio, legacy SSE, Streamable HTTP in both eras) calls it, so they can never drift apart.
 *
 * @module
 */

import { McpServer as SdkMcpServer } from "@modelcontextprotocol/server";
import type { McpServer } from "./sdk_types.ts";
import type { ServerDeps } from "./context.ts";
import { registerCreateMediaPrompt } from "./prompts/create_media.ts";
import { catalogueOf } from "./fal/catalogue.ts";
import { registerJobListNotifier } from "./resources/job_list_notifier.ts";
import { registerJobResource } from "./resources/job_resource.ts";
import { installJobSubscriptions, RESOURCE_CAPABILITIES } from "./resources/job_subscriptions.ts";
import { registerModelSchemaResource } from "./resources/model_schema_resource.ts";
import { registerCancelJob } from "./tools/cancel_job.ts";
import { registerEstimateCost } from "./tools/estimate_cost.ts";
import { registerGetJob } from "./tools/get_job.ts";
import { registerGetModelSchema } from "./tools/get_model_schema.ts";
import { registerGetPricing } from "./tools/get_pricing.ts";
import { registerGetUsage } from "./tools/get_usage.ts";
import { registerListJobs } from "./tools/list_jobs.ts";
import {
  installMcpTasks,
  type McpTaskRegistry,
  TASK_CAPABILITIES,
  TASK_EXTENSIONS,
} from "./tools/mcp_tasks.ts";
import { registerRunModel } from "./tools/run_model.ts";
import { registerRecommendModel } from "./tools/recommend_model.ts";
import { registerSearchModels } from "./tools/search_models.ts";
import { registerSubmitJob } from "./tools/submit_job.ts";
import { registerEditImage } from "./tools/tasks/edit_image.ts";
import { registerGenerateImage } from "./tools/tasks/generate_image.ts";
import { registerGenerateMusic } from "./tools/tasks/generate_music.ts";
import { registerGenerateVideo } from "./tools/tasks/generate_video.ts";
import { registerRemoveBackground } from "./tools/tasks/remove_background.ts";
import { registerTextToSpeech } from "./tools/tasks/text_to_speech.ts";
import { registerTranscribeAudio } from "./tools/tasks/transcribe_audio.ts";
import { registerUpscaleImage } from "./tools/tasks/upscale_image.ts";
import { registerUploadFile } from "./tools/upload_file.ts";
import { recordTools } from "./tool_catalog.ts";
import { linkMediaTools, registerMediaApp } from "./ui/media_app.ts";
import { SERVER_NAME, VERSION } from "./version.ts";
import { icons, toolIcons } from "./icons.ts";
import { SERVER_CACHE_HINTS } from "./cache_hints.ts";

export type { ServerDeps, ToolSettings } from "./context.ts";
export type { McpServer } from "./sdk_types.ts";

const INSTRUCTIONS = `fal-mcp gives you the fal.ai catalogue of generative media models.
Task tools (generate_image, edit_image, remove_background, upscale_image, generate_video,
generate_music, text_to_speech, transcribe_audio) pick a sensible default model; pass "model" to
use any other fal endpoint. For anything else: search_models to find an endpoint_id,
get_model_schema for its inputs, run_model to run it. Video and music take minutes: they (or
submit_job) hand back a job_id; get_job fetches the result later, list_jobs finds lost ids.
get_pricing and estimate_cost tell what a run costs. Media inputs accept URLs, local paths or
data: URIs; results are URLs (resource links), images also as small inline previews.`;

/** Builds a fresh MCP server with every fal tool, resource and prompt registered. */
export function createServer(deps: ServerDeps): McpServer {
  const server = new SdkMcpServer(
    { name: SERVER_NAME, title: "fal.ai MCP server", version: VERSION, icons: icons("server") },
    {
      // `tools` is declared by the first registerTool, after MCP tasks hook in.
      capabilities: {
        resources: RESOURCE_CAPABILITIES,
        prompts: {},
        logging: {},
        tasks: TASK_CAPABILITIES,
        extensions: TASK_EXTENSIONS,
      },
      instructions: INSTRUCTIONS,
      cacheHints: SERVER_CACHE_HINTS,
      ...(deps.costs ? { requestState: { verify: deps.costs.verifyState } } : {}),
    },
  );
  recordTools(server);
  // Every tool gets its icon as it is registered.
  const registerTool = server.registerTool.bind(server);
  server.registerTool = ((...args: Parameters<typeof registerTool>) => {
    const tool = registerTool(...args);
    tool.icons ??= toolIcons(args[0]);
    return tool;
  }) as typeof server.registerTool;
  const tasks = installMcpTasks(server, deps);
  installJobSubscriptions(server, deps);
  linkMediaTools(server);
  const registrations: ((server: McpServer, deps: ServerDeps, tasks: McpTaskRegistry) => void)[] = [
    registerGenerateImage,
    registerEditImage,
    registerRemoveBackground,
    registerUpscaleImage,
    registerGenerateVideo,
    registerGenerateMusic,
    registerTextToSpeech,
    registerTranscribeAudio,
    registerSearchModels,
    registerRecommendModel,
    registerGetModelSchema,
    registerRunModel,
    registerSubmitJob,
    registerGetJob,
    registerCancelJob,
    registerListJobs,
    registerGetPricing,
    registerEstimateCost,
    registerGetUsage,
    registerUploadFile,
    registerJobResource,
    registerModelSchemaResource,
    registerJobListNotifier,
    registerMediaApp,
  ];
  for (const register of registrations) register(server, deps, tasks);
  registerCreateMediaPrompt(server, deps.catalogue ?? catalogueOf(deps.fal));
  return server;
}
