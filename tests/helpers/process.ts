/**
 * Spawning the real `main.ts` as a child process, for stdio, dual-mode and CLI tests.
 *
 * @module
 */

/** Absolute path of main.ts. */
export const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Arguments that run main.ts with the project's config (permissions and unstable flags). */
export function mainArgs(...args: string[]): string[] {
  const config = new URL("../../deno.json", import.meta.url).pathname;
  return ["run", "-A", "--quiet", "--config", config, MAIN, ...args];
}

/** What a finished process answered. */
export interface ProcessOutput {
  /** Exit code. */
  code: number;
  /** Everything written to stdout. */
  stdout: string;
  /** Everything written to stderr. */
  stderr: string;
}

/** Runs this Deno executable with `args` and only `env` (stdin closed) to completion. */
export async function runDeno(args: string[], env: Record<string, string>): Promise<ProcessOutput> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs main.ts to completion; answers exit code, stdout and stderr. */
export async function runMain(
  args: string[],
  env: Record<string, string> = {},
): Promise<ProcessOutput> {
  return await runDeno(mainArgs(...args), { FAL_MCP_JOB_STORE: "memory", ...env });
}

/** Reads JSON log lines from a stderr stream until one matches; answers it. */
export async function waitForLogLine(
  stderr: ReadableStream<Uint8Array>,
  match: (record: Record<string, unknown>) => boolean,
  seen: string[] = [],
): Promise<Record<string, unknown>> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stderr ended before the expected line:\n${seen.join("\n")}`);
      buffer += value;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        seen.push(line);
        try {
          const record = JSON.parse(line);
          if (match(record)) return record;
        } catch {
          // not a JSON line
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Waits for the server's `listening` log line on the child's stderr and keeps reading stderr
 * after it (a pipe nobody reads fills up and blocks the server's logging). Answers the URL and
 * a promise that settles when stderr ends.
 */
export async function listeningAndDrained(
  stderr: ReadableStream<Uint8Array>,
): Promise<{ url: string; drained: Promise<void> }> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let url: string | undefined;
  const seen: string[] = [];
  while (url === undefined) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stderr ended before "listening":\n${seen.join("\n")}`);
    buffer += value;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      seen.push(line);
      try {
        const record = JSON.parse(line);
        if (record.msg === "listening") url = String(record.url);
      } catch {
        // not a JSON line
      }
    }
  }
  const drained = (async () => {
    while (!(await reader.read()).done) { /* keep the pipe flowing */ }
  })().catch(() => {});
  return { url, drained };
}
