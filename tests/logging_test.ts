/**
 * Logs a person can read and a machine can parse: `--log-format pretty|json|auto`, secrets
 * redacted in both, and exactly one access-log line per HTTP request, a long-lived `GET /mcp`
 * stream included.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createLogger, prettyLine } from "../src/log.ts";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { runMain } from "./helpers/process.ts";
import { openSession } from "./helpers/raw_mcp.ts";
import { waitFor } from "./helpers/wait_for.ts";

Deno.test("pretty lines read as time, level, message and key=value fields, secrets redacted", () => {
  const lines: string[] = [];
  const logger = createLogger({
    level: "info",
    format: "pretty",
    secrets: ["sekrit-fal-key"],
    write: (line) => lines.push(line),
  });
  logger.info("listening", { url: "http://127.0.0.1:8000", auth: "none", byok: false });
  logger.warn("fal call retried", { what: "Cannot submit job", key: "sekrit-fal-key" });
  logger.error("request failed", { error: new TypeError("boom") });
  logger.debug("dropped");
  assert.equal(lines.length, 3);
  assert.match(
    lines[0]!,
    /^\d\d:\d\d:\d\d INFO {2}listening url=http:\/\/127\.0\.0\.1:8000 auth=none byok=false$/,
  );
  assert.match(
    lines[1]!,
    /^\d\d:\d\d:\d\d WARN {2}fal call retried what="Cannot submit job" key=\[redacted\]$/,
  );
  assert.match(lines[2]!, /^\d\d:\d\d:\d\d ERROR request failed error="TypeError: boom"$/);
  assert.ok(!lines.join("\n").includes("sekrit"));
});

Deno.test("prettyLine colours the level only when asked", () => {
  const record = { time: "2026-01-01T12:34:56.000Z", level: "warn", msg: "m", n: 1 };
  assert.equal(prettyLine(record), "12:34:56 WARN  m n=1");
  assert.equal(prettyLine(record, true), "12:34:56 \x1b[33mWARN \x1b[0m m n=1");
});

/** The server's stderr lines when it starts over stdio and its stdin closes at once. */
async function startupLines(args: string[]): Promise<string[]> {
  const { code, stderr } = await runMain(args);
  assert.equal(code, 0, stderr);
  return stderr.trim().split("\n");
}

Deno.test("--log-format json writes one JSON object per line; auto on a pipe does too", async () => {
  for (const args of [["--log-format", "json"], []]) {
    const lines = await startupLines(args);
    assert.ok(lines.length >= 2, lines.join("\n"));
    for (const line of lines) {
      const record = JSON.parse(line);
      assert.equal(typeof record.time, "string");
      assert.ok(["debug", "info", "warn", "error"].includes(record.level), line);
    }
    assert.ok(lines.some((line) => JSON.parse(line).msg === "fal-mcp started"));
  }
});

Deno.test("--log-format pretty (or FAL_MCP_LOG_FORMAT) writes readable lines, not JSON", async () => {
  for (
    const lines of [
      await startupLines(["--log-format", "pretty"]),
      (await runMain([], { FAL_MCP_LOG_FORMAT: "pretty" })).stderr.trim().split("\n"),
    ]
  ) {
    assert.ok(lines.length >= 2, lines.join("\n"));
    for (const line of lines) {
      assert.match(line, /^\d\d:\d\d:\d\d (DEBUG|INFO |WARN |ERROR) \S/);
      assert.ok(!line.startsWith("{"), line);
    }
    assert.ok(lines.some((line) => / fal-mcp started version=\S+ transport=stdio$/.test(line)));
  }
});

Deno.test("an unknown --log-format is refused naming the choices", async () => {
  const { code, stderr } = await runMain(["--log-format", "xml"]);
  assert.equal(code, 2);
  assert.equal(
    stderr.trim(),
    'fal-mcp: Invalid --log-format "xml": expected one of auto, pretty, json',
  );
});

Deno.test("each HTTP request is logged once, a long-lived GET /mcp stream included", async () => {
  const logLines: string[] = [];
  const server = await startTestHttpServer({ logLines, args: ["--keep-alive", "1"] });
  const requests = () =>
    logLines.map((line) => JSON.parse(line)).filter((record) => record.msg === "request");
  try {
    const sessionId = await openSession(`${server.url}/mcp`);
    const session = { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" };

    // The standalone stream: opened, read from, then abandoned by the client.
    const leave = new AbortController();
    const stream = await fetch(`${server.url}/mcp`, {
      headers: { accept: "text/event-stream", ...session },
      signal: leave.signal,
    });
    assert.equal(stream.status, 200);
    const reader = stream.body!.getReader();
    await reader.read();
    leave.abort();
    await reader.closed.catch(() => {});
    // The server notices at its next keep-alive write; the line comes when the stream ends.
    await waitFor(
      () => requests().some((r) => r.http_method === "GET"),
      "the GET /mcp access line",
    );

    await (await fetch(`${server.url}/mcp`, { method: "DELETE", headers: session })).text();
    await waitFor(() => requests().some((r) => r.http_method === "DELETE"), "the DELETE line");
  } finally {
    await server.close();
  }
  const lines = requests();
  assert.deepEqual(
    lines.map((r) => `${r.http_method} ${r.rpc_method ?? ""}`.trim()),
    ["POST initialize", "POST notifications/initialized", "GET", "DELETE"],
  );
  assert.equal(new Set(lines.map((r) => r.request_id)).size, lines.length, "one line per id");
});
