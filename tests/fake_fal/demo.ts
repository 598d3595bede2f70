/**
 * `deno task demo`: the fake fal and the HTTP server in one process, so a newcomer can make real
 * tool calls (search, schema, image generation…) without a fal key. Extra arguments pass through
 * to the server (`deno task demo --port 9000`). The demo shares its own folder (this one) with its
 * HTTP callers (`--allow-local-files`), so `upload_file` can be tried on the files here.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { parseConfig } from "../../src/config.ts";
import { ConfigError } from "../../src/errors.ts";
import { startServer } from "../../src/runtime.ts";
import { startFakeFal } from "./server.ts";

const DEMO_KEY = "demo-key";
/** The folder HTTP callers of the demo may upload files from: the demo's own. */
const DEMO_FOLDER = fileURLToPath(new URL(".", import.meta.url));

/** The call README.md suggests trying (tests/demo_test.ts checks README and the fake agree). */
const DEMO_CALL = '{"endpoint_id": "fal-ai/flux/dev", "input": {"prompt": "a red fox"}}';

const fake = await startFakeFal({ keys: [DEMO_KEY], jobDurationMs: 2000 });
let parsed;
try {
  // Later flags win, so the user's own `--port`, `--transport`… override these defaults.
  parsed = parseConfig(
    [
      "--transport",
      "http",
      "--job-store",
      "memory",
      "--fal-base-url",
      fake.url,
      "--allow-local-files",
      DEMO_FOLDER,
      // Runs estimated above a dollar (video) ask first, as a cautious deployment would.
      "--confirm-above-usd",
      "1",
      ...Deno.args,
    ],
    { ...Deno.env.toObject(), FAL_KEY: DEMO_KEY },
  );
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`fal-mcp demo: ${error.message}`);
  await fake.close();
  Deno.exit(2);
}
if (parsed.kind !== "run") {
  console.error(
    "fal-mcp demo: --help and --version are flags of the server itself (deno task start)",
  );
  await fake.close();
  Deno.exit(0);
}
let server;
try {
  server = await startServer(parsed.config);
} catch (error) {
  await fake.close();
  if (!(error instanceof ConfigError)) throw error;
  console.error(`fal-mcp demo: ${error.message}`);
  Deno.exit(2);
}
if (server.httpUrl) {
  console.error(
    `\nfal-mcp demo: the server runs against a local fake fal (${fake.url}), no fal key needed.\n` +
      `  Studio:          ${server.httpUrl}/studio  (open it in a browser)\n` +
      `  Streamable HTTP: ${server.httpUrl}/mcp\n` +
      `  Legacy SSE:      ${server.httpUrl}/sse\n` +
      `  upload_file may read files in ${DEMO_FOLDER}\n` +
      `Try it: npx @modelcontextprotocol/inspector, connect to ${server.httpUrl}/mcp and call\n` +
      `  run_model with ${DEMO_CALL}\n` +
      `Ctrl+C stops it.\n`,
  );
}
const stop = () => void server.shutdown();
Deno.addSignalListener("SIGINT", stop);
if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
await server.finished;
await fake.close();
Deno.exit(0);
