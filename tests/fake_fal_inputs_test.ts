/**
 * The fake fal as a newcomer meets it: `--help` that documents every flag (`--key` included), and
 * jobs whose input URLs cannot be downloaded failing at result time with fal's 422
 * `file_download_error`, through the queue, a sync run and the server's tools.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CATALOGUE, thumbnailName } from "./fake_fal/catalogue.ts";
import { FAKE_HELP } from "./fake_fal/main.ts";
import type { FakeFal } from "./fake_fal/server.ts";
import { TEST_FAL_KEY, withFakeFal } from "./helpers/scenario.ts";
import { allText, withToolClient } from "./helpers/tool_client.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const AUTH = { authorization: `Key ${TEST_FAL_KEY}`, "content-type": "application/json" };
const UPSCALER = "fal-ai/clarity-upscaler";

Deno.test("the fake's --help documents every flag it takes, --key included, and exits 0", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      "--config",
      `${ROOT}deno.json`,
      `${ROOT}tests/fake_fal/main.ts`,
      "--help",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0);
  const help = new TextDecoder().decode(output.stdout);
  assert.equal(help.trim(), FAKE_HELP.trim());
  assert.match(help, /--key KEY\s+accept only this fal key, repeatable; without --key any/);
  const source = await Deno.readTextFile(new URL("./fake_fal/main.ts", import.meta.url));
  const options = [...source.matchAll(/^\s+"?([a-z][a-z-]*)"?: \{ type: "(?:string|boolean)"/gm)]
    .map((m) => `--${m[1]}`).sort();
  const documented = [
    ...new Set([...FAKE_HELP.matchAll(/^\s+(--[a-z][a-z-]*)/gm)].map((m) => m[1]!)),
  ]
    .sort();
  assert.deepEqual(documented, options);
});

/** Submits to the queue, waits for COMPLETED, and answers the result's status and body. */
async function completedResult(fake: FakeFal, input: Record<string, unknown>) {
  const submitted = await fetch(`${fake.url}/queue/${UPSCALER}`, {
    method: "POST",
    headers: AUTH,
    body: JSON.stringify(input),
  });
  assert.equal(submitted.status, 200, "fal accepts the job; the download fails when it runs");
  const { request_id: id } = await submitted.json();
  const base = `${fake.url}/queue/${UPSCALER}/requests/${id}`;
  let done = false;
  for (let i = 0; i < 500 && !done; i++) {
    const status = await (await fetch(`${base}/status`, { headers: AUTH })).json();
    done = status.status === "COMPLETED";
    if (!done) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok(done, "the job completes");
  const result = await fetch(base, { headers: AUTH });
  return { status: result.status, body: await result.json() };
}

Deno.test("a queued job whose input URL cannot be downloaded fails at result time with 422", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  await withFakeFal(async (fake) => {
    const model = CATALOGUE.find((m) => m.endpointId === UPSCALER)!;
    const existing = `${fake.url}/files/${thumbnailName(model)}`;
    const ok = await completedResult(fake, { image_url: existing });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));

    for (
      const url of [
        `${fake.url}/files/no-such-upload.png`,
        `http://127.0.0.1:${closedPort}/cat.png`,
        "https://images.invalid/cat.png",
        "data:image/png;base64,@@not-base64@@",
      ]
    ) {
      const failed = await completedResult(fake, { image_url: url });
      assert.equal(failed.status, 422, url);
      const [item] = failed.body.detail;
      assert.deepEqual(item.loc, ["body", "image_url"], url);
      assert.equal(item.type, "file_download_error");
      assert.match(item.msg, /^Failed to download the file/);
      assert.equal(item.url, "https://docs.fal.ai/errors#file_download_error");
    }
  });
});

Deno.test("a sync run with an unreachable input URL answers 422 file_download_error at once", async () => {
  await withFakeFal(async (fake) => {
    const response = await fetch(`${fake.url}/run/fal-ai/whisper`, {
      method: "POST",
      headers: AUTH,
      body: JSON.stringify({ audio_url: `${fake.url}/files/missing.wav` }),
    });
    assert.equal(response.status, 422);
    const body = await response.json();
    assert.deepEqual(body.detail[0].loc, ["body", "audio_url"]);
    assert.equal(body.detail[0].type, "file_download_error");
  });
});

Deno.test("a task tool given an image fal cannot download fails saying the download failed", async () => {
  await withToolClient(async ({ call, fake }) => {
    const answer = await call("upscale_image", { image: `${fake.url}/files/gone.png`, scale: 2 });
    assert.equal(answer.isError, true, allText(answer));
    assert.match(
      allText(answer),
      /failed: image_url: Failed to download the file\. Please check if the URL is accessible/,
    );
  });
});

Deno.test("the fake refuses a malformed or out-of-range --port in one line, exit 2", async () => {
  for (const value of ["-1", "99999", "8080x"]) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        "--config",
        `${ROOT}deno.json`,
        `${ROOT}tests/fake_fal/main.ts`,
        "--port",
        value,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(output.code, 2, value);
    assert.equal(
      new TextDecoder().decode(output.stderr).trim(),
      `fake fal: Invalid --port "${value}": expected a whole number from 0 to 65535`,
    );
  }
});
