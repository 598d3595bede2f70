/**
 * Command line entry of the fake fal server, for offline demos and manual testing
 * (`deno task fake-fal --port 8787`); `--help` lists its flags.
 *
 * Prints one JSON line, `{"fake_fal":"http://127.0.0.1:8787"}`, once it is listening, and stops
 * on SIGINT or SIGTERM.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startFakeFal } from "./server.ts";

/** The `--help` text of the fake. */
export const FAKE_HELP =
  `fake fal: a local stand-in for fal.ai (queue, sync runs, storage, platform API)

Usage: deno task fake-fal [options]

Point the server at it with --fal-base-url <the printed URL> (or FAL_BASE_URL).

Options:
  --port N                port to listen on (default: 0, any free port)
  --host HOST             address to listen on (default: 127.0.0.1)
  --key KEY               accept only this fal key, repeatable; without --key any non-empty key
                          is accepted (send it as Authorization: Key KEY, like FAL_KEY)
  --job-ms N              how long a queued job runs, in ms (default: 600)
  --queue-steps N         queue positions a job passes before it runs (default: 2)
  --ping-ms N             interval of ": ping" comments on status streams, in ms (default: 15000)
  --public-url URL        origin written into the URLs it hands out (behind a proxy)
  --validate-on-submit    refuse invalid input at submit (422) instead of failing the job later
  --help, -h              print this help and exit

Jobs whose input names a URL that cannot be downloaded (a missing file of the fake, a local
server that does not answer, a .invalid host) fail at result time with 422 file_download_error,
as fal's do.
`;

function numberFlag(value: string | undefined, name: string, max?: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed > (max ?? parsed)) {
    const range = max === undefined ? "0 or more" : `from 0 to ${max}`;
    throw new RangeError(`Invalid --${name} "${value}": expected a whole number ${range}`);
  }
  return parsed;
}

async function main(args: string[]): Promise<void> {
  // `--port -1` is a bad value, not a missing one followed by an unknown option.
  const joined = args.flatMap((arg, i) =>
    /^--(?:port|job-ms|queue-steps|ping-ms)$/.test(arg) && /^-\d/.test(args[i + 1] ?? "")
      ? [`${arg}=${args[i + 1]}`]
      : i > 0 && /^--(?:port|job-ms|queue-steps|ping-ms)$/.test(args[i - 1]!) && /^-\d/.test(arg)
      ? []
      : [arg]
  );
  const { values } = parseArgs({
    args: joined,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "job-ms": { type: "string" },
      "queue-steps": { type: "string" },
      "ping-ms": { type: "string" },
      key: { type: "string", multiple: true },
      "public-url": { type: "string" },
      "validate-on-submit": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(FAKE_HELP);
    return;
  }
  const port = numberFlag(values.port, "port", 65535);
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
