/**
 * fal-mcp: an MCP server for the whole fal.ai catalogue of generative media models, served over
 * stdio, legacy HTTP+SSE and Streamable HTTP (2026-07-28 stateless and 2025-era sessions).
 *
 * @example Run over stdio (what MCP clients launch)
 * ```sh
 * FAL_KEY=... deno run -A jsr:@fal-mcp/fal-mcp
 * ```
 *
 * @example Serve HTTP on 127.0.0.1:8000 (`/mcp` and `/sse`)
 * ```sh
 * FAL_KEY=... deno run -A jsr:@fal-mcp/fal-mcp --transport http
 * ```
 *
 * @module
 */

import { HELP_TEXT, parseConfig } from "./src/config.ts";
import { ConfigError } from "./src/errors.ts";
import { resolveFalHosts } from "./src/fal/hosts.ts";
import { missingPermissions, permissionMessage } from "./src/permissions.ts";
import { startServer } from "./src/runtime.ts";
import { VERSION } from "./src/version.ts";

/** Runs the CLI with `args`; answers the process exit code. */
export async function main(args: readonly string[]): Promise<number> {
  // Without the environment there is no configuration to read: name every missing permission now.
  const early = missingPermissions();
  if (early.includes("--allow-env")) {
    console.error(`fal-mcp: ${permissionMessage(early)}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseConfig(args, Deno.env.toObject());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`fal-mcp: ${error.message}`);
    return 2;
  }
  if (parsed.kind === "run") {
    const { config } = parsed;
    const missing = missingPermissions({
      folders: [
        ...(config.jobStore === "sqlite" ? [config.stateDir] : []),
        ...(config.outputDir ? [config.outputDir] : []),
      ],
      hosts: [new URL(resolveFalHosts(config.falBaseUrl).queue).host],
    });
    if (missing.length) {
      console.error(`fal-mcp: ${permissionMessage(missing)}`);
      return 2;
    }
  }
  if (parsed.kind === "help") {
    console.log(HELP_TEXT);
    return 0;
  }
  if (parsed.kind === "version") {
    console.log(`fal-mcp ${VERSION}`);
    return 0;
  }
  let server;
  try {
    server = await startServer(parsed.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`fal-mcp: ${error.message}`);
    return 2;
  }
  const stop = () => void server.shutdown();
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
