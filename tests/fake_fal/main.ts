/**
 * Command line entry of the fake fal server, for offline demos and manual testing:
 *
 * ```sh
 * deno run --allow-net --allow-env tests/fake_fal/main.ts --port 8787 [--host 127.0.0.1] [--job-ms 600]
 * ```
 *
 * Prints one JSON line, `{"fake_fal":"http://127.0.0.1:8787"}`, once it is listening, and stops
 * on SIGINT or SIGTERM. Further flags: `--queue-steps N`, `--ping-ms N`, `--key K` (repeatable;
 * restricts accepted keys), `--public-url URL`, `--validate-on-submit`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startFakeFal } from "./server.ts";

function numberFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed) || parsed < 0) {
    throw new RangeError(`--${name} must be a number >= 0, got '${value}'`);
  }
  return parsed;
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "job-ms": { type: "string" },
      "queue-steps": { type: "string" },
      "ping-ms": { type: "string" },
      key: { type: "string", multiple: true },
      "public-url": { type: "string" },
      "validate-on-submit": { type: "boolean" },
    },
    strict: true,
    allowPositionals: false,
  });
  const port = numberFlag(values.port, "port");
  const jobDurationMs = numberFlag(values["job-ms"], "job-ms");
  const queueSteps = numberFlag(values["queue-steps"], "queue-steps");
  const pingIntervalMs = numberFlag(values["ping-ms"], "ping-ms");
  const fake = await startFakeFal({
    ...(port === undefined ? {} : { port }),
    ...(values.host === undefined ? {} : { hostname: values.host }),
    ...(jobDurationMs === undefined ? {} : { jobDurationMs }),
    ...(queueSteps === undefined ? {} : { queueSteps }),
    ...(pingIntervalMs === undefined ? {} : { pingIntervalMs }),
    ...(values.key === undefined ? {} : { keys: values.key }),
    ...(values["public-url"] === undefined ? {} : { publicUrl: values["public-url"] }),
    validateOnSubmit: values["validate-on-submit"] ?? false,
  });
  console.log(JSON.stringify({ fake_fal: fake.url }));

  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const stop = () => {
    for (const signal of signals) Deno.removeSignalListener(signal, stop);
    fake.close().catch((error) => {
      console.error(error);
      Deno.exitCode = 1;
    });
  };
  for (const signal of signals) Deno.addSignalListener(signal, stop);
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    console.error(`fake fal: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(2);
  }
}
