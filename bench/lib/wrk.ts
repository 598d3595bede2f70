/**
 * The load generator: `wrk` (Debian package `wrk`), driven with a generated Lua script for the
 * POST body and headers. Always 127.0.0.1, always bounded in time.
 *
 * @module
 */

/** One HTTP request to repeat. */
export interface LoadRequest {
  /** Target URL (must be on 127.0.0.1). */
  url: string;
  /** JSON-RPC body (POST), or none (GET). */
  body?: unknown;
  /** Request headers. */
  headers?: Record<string, string>;
}

/** What one wrk run measured. */
export interface LoadResult {
  /** Requests per second. */
  rps: number;
  /** Requests completed. */
  requests: number;
  /** Responses that were not 2xx/3xx, plus socket errors. */
  errors: number;
}

/** Whether `wrk` is installed. */
export async function hasWrk(): Promise<boolean> {
  try {
    const out = await new Deno.Command("wrk", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.code === 0 || out.code === 1;
  } catch {
    return false;
  }
}

function luaString(text: string): string {
  return `[==[${text}]==]`;
}

/** Runs wrk for `seconds` with `connections` keep-alive connections. */
export async function runWrk(
  request: LoadRequest,
  options: { seconds: number; connections: number; threads: number },
): Promise<LoadResult> {
  const url = new URL(request.url);
  if (url.hostname !== "127.0.0.1") throw new Error(`load goes to 127.0.0.1 only, not ${url.host}`);
  const lines = [`wrk.method = "${request.body === undefined ? "GET" : "POST"}"`];
  if (request.body !== undefined) {
    lines.push(`wrk.body = ${luaString(JSON.stringify(request.body))}`);
  }
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    lines.push(`wrk.headers[ ${luaString(name)} ] = ${luaString(value)}`);
  }
  // The first failed answer is printed, so a failing scenario says why.
  lines.push(
    "local seen = false",
    "response = function(status, headers, body)",
    '  if status >= 400 and not seen then seen = true; io.stderr:write("FAILED " .. status .. " " .. string.sub(body, 1, 300) .. "\\n") end',
    "end",
  );
  const script = await Deno.makeTempFile({ suffix: ".lua" });
  try {
    await Deno.writeTextFile(script, lines.join("\n") + "\n");
    const out = await new Deno.Command("wrk", {
      args: [
        `-t${options.threads}`,
        `-c${options.connections}`,
        `-d${options.seconds}s`,
        "-s",
        script,
        request.url,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? "NaN");
    if (!Number.isFinite(rps)) {
      throw new Error(`wrk failed: ${text}${new TextDecoder().decode(out.stderr)}`);
    }
    const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? "0");
    const failed = /FAILED .*/.exec(new TextDecoder().decode(out.stderr) + text)?.[0];
    if (failed) console.error(`[bench] ${request.url}: ${failed}`);
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
      text,
    );
    const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
    if (non2xx + socketErrors > 0) console.error(`[bench] ${request.url}: ${text.trim()}`);
    const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? "0");
    return { rps, requests, errors: non2xx + socketErrors };
  } finally {
    await Deno.remove(script).catch(() => {});
  }
}
