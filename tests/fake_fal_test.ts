import assert from "node:assert/strict";
import { type FakeFal, type FakeFalOptions, startFakeFal } from "./fake_fal/server.ts";
import { PNG_SIGNATURE, readImageDimensions, renderPng } from "./fake_fal/media.ts";
import { CATALOGUE } from "./fake_fal/catalogue.ts";

const KEY = "test-key-id:test-key-secret";
const AUTH = { authorization: `Key ${KEY}` };
const JSON_AUTH = { ...AUTH, "content-type": "application/json" };

type Json = Record<string, unknown>;

async function withFake(
  options: FakeFalOptions,
  fn: (fal: FakeFal) => Promise<void>,
): Promise<void> {
  const fal = await startFakeFal(options);
  try {
    await fn(fal);
  } finally {
    await fal.close();
  }
}

async function call(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text === "" ? {} : JSON.parse(text), headers: res.headers };
}

function submit(fal: FakeFal, endpoint: string, input: unknown, headers: HeadersInit = JSON_AUTH) {
  return call(`${fal.url}/queue/${endpoint}`, {
    method: "POST",
    headers,
    body: JSON.stringify(input),
  });
}

function run(fal: FakeFal, endpoint: string, input: unknown) {
  return call(`${fal.url}/run/${endpoint}`, {
    method: "POST",
    headers: JSON_AUTH,
    body: JSON.stringify(input),
  });
}

async function bytesOf(url: string): Promise<{ bytes: Uint8Array; type: string | null }> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  return { bytes: new Uint8Array(await res.arrayBuffer()), type: res.headers.get("content-type") };
}

/** Reads a whole SSE response: `data:` payloads and comment lines. */
async function readSse(res: Response): Promise<{ events: Json[]; comments: string[] }> {
  const text = await res.text();
  const events: Json[] = [];
  const comments: string[] = [];
  for (const block of text.split("\n\n")) {
    for (const line of block.split("\n")) {
      if (line.startsWith("data: ")) events.push(JSON.parse(line.slice(6)));
      else if (line.startsWith(":")) comments.push(line);
    }
  }
  return { events, comments };
}

async function waitCompleted(statusUrl: string): Promise<Json> {
  for (let i = 0; i < 200; i++) {
    const { body } = await call(statusUrl, { headers: AUTH });
    if (body.status === "COMPLETED") return body;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`Job behind ${statusUrl} did not complete`);
}

Deno.test("a queued job goes IN_QUEUE → IN_PROGRESS → COMPLETED and its image URL serves a real PNG", async () => {
  await withFake({ jobDurationMs: 250, queueSteps: 2 }, async (fal) => {
    const input = {
      prompt: "a lighthouse at dusk",
      image_size: { width: 320, height: 200 },
      num_images: 2,
      output_format: "png",
      seed: 7,
    };
    const submitted = await submit(fal, "fal-ai/flux/dev", input);
    assert.equal(submitted.status, 200);
    const id = submitted.body.request_id as string;
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal(submitted.headers.get("x-fal-request-id"), id);
    const base = `${fal.url}/queue/fal-ai/flux/requests/${id}`;
    assert.deepEqual(submitted.body, {
      status: "IN_QUEUE",
      request_id: id,
      response_url: base,
      status_url: `${base}/status`,
      cancel_url: `${base}/cancel`,
      logs: null,
      metrics: {},
      queue_position: 1,
    });

    const queued = await call(`${base}/status`, { headers: AUTH });
    assert.equal(queued.status, 202);
    assert.equal(queued.body.status, "IN_QUEUE");
    assert.equal(queued.body.logs, null);
    assert.equal(typeof queued.body.queue_position, "number");

    const early = await call(base, { headers: AUTH });
    assert.equal(early.status, 400);
    assert.deepEqual(early.body, { detail: "Request is still in progress" });

    const stream = await fetch(`${base}/status/stream?logs=1`, { headers: AUTH });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get("content-type"), "text/event-stream");
    const { events } = await readSse(stream);
    const statuses = events.map((event) => event.status);
    assert.ok(statuses.includes("IN_PROGRESS"), `statuses: ${statuses}`);
    assert.equal(statuses.at(-1), "COMPLETED");
    assert.equal(statuses.indexOf("COMPLETED"), statuses.length - 1);
    const positions = events.filter((e) => e.status === "IN_QUEUE").map((e) => e.queue_position);
    assert.deepEqual(positions, [...positions].sort((a, b) => Number(b) - Number(a)));
    const streamedLogs = events.flatMap((event) => (event.logs ?? []) as Json[]);
    assert.ok(streamedLogs.length >= 3);
    for (const log of streamedLogs) {
      assert.equal(log.level, "INFO");
      assert.equal(log.source, "user");
      assert.equal(typeof log.message, "string");
      assert.ok(!Number.isNaN(Date.parse(log.timestamp as string)));
    }

    const done = await call(`${base}/status?logs=1`, { headers: AUTH });
    assert.equal(done.status, 200);
    assert.equal(done.body.status, "COMPLETED");
    assert.equal(typeof (done.body.metrics as Json).inference_time, "number");
    assert.deepEqual(done.body.logs, streamedLogs);
    assert.equal(done.body.error, undefined);

    const result = await call(base, { headers: AUTH });
    assert.equal(result.status, 200);
    assert.equal(result.body.seed, 7);
    assert.equal(result.body.prompt, input.prompt);
    assert.deepEqual(result.body.has_nsfw_concepts, [false, false]);
    const images = result.body.images as Json[];
    assert.equal(images.length, 2);
    for (const image of images) {
      assert.equal(image.width, 320);
      assert.equal(image.height, 200);
      assert.equal(image.content_type, "image/png");
      assert.ok((image.url as string).startsWith(`${fal.url}/files/`));
      const { bytes, type } = await bytesOf(image.url as string);
      assert.equal(type, "image/png");
      assert.deepEqual(bytes.subarray(0, 8), PNG_SIGNATURE);
      assert.equal(new TextDecoder().decode(bytes.subarray(12, 16)), "IHDR");
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      assert.equal(view.getUint32(16), 320);
      assert.equal(view.getUint32(20), 200);
    }

    // Like fal, status and result answer only under owner/app, not the full endpoint id.
    for (const tail of ["/status", ""]) {
      const full = await call(`${fal.url}/queue/fal-ai/flux/dev/requests/${id}${tail}`, {
        headers: AUTH,
      });
      assert.equal(full.status, 404, `the full endpoint id must not answer ${tail || "result"}`);
    }

    const job = fal.state.jobs.get(id);
    assert.equal(job?.endpointId, "fal-ai/flux/dev");
    assert.equal(job?.key, KEY);
    assert.equal(job?.status, "COMPLETED");
    assert.equal(job?.cancelled, false);
    assert.deepEqual(job?.input, input);
  });
});

Deno.test("the status stream sends `: ping` comments and closes after COMPLETED", async () => {
  await withFake({ jobDurationMs: 200, pingIntervalMs: 20 }, async (fal) => {
    // Long enough that the stream opens while the job runs, even on a loaded machine.
    const { body } = await submit(fal, "fal-ai/flux/schnell", {
      prompt: "x",
      fake_duration_ms: 1500,
    });
    const res = await fetch(`${body.status_url}/stream`, { headers: AUTH });
    const { events, comments } = await readSse(res);
    assert.ok(comments.includes(": ping"), `comments: ${comments}`);
    assert.equal(events.at(-1)?.status, "COMPLETED");
    assert.ok(events.every((event) => event.logs === null));
  });
});

Deno.test("a status stream opened after completion sends one COMPLETED event", async () => {
  await withFake({ jobDurationMs: 30 }, async (fal) => {
    const { body } = await submit(fal, "fal-ai/flux/schnell", { prompt: "x" });
    await waitCompleted(body.status_url as string);
    const { events } = await readSse(await fetch(`${body.status_url}/stream`, { headers: AUTH }));
    assert.equal(events.length, 1);
    assert.equal(events[0]?.status, "COMPLETED");
  });
});

Deno.test("a sync run answers the output with x-fal-request-id, deterministic for a seed", async () => {
  await withFake({ jobDurationMs: 20 }, async (fal) => {
    const input = { prompt: "same", seed: 42, image_size: "square" };
    const first = await run(fal, "fal-ai/flux/schnell", input);
    const second = await run(fal, "fal-ai/flux/schnell", input);
    assert.equal(first.status, 200);
    const id = first.headers.get("x-fal-request-id");
    assert.ok(id);
    assert.equal(fal.state.jobs.get(id)?.mode, "sync");
    const [a, b] = [first, second].map((r) => (r.body.images as Json[])[0]!);
    assert.equal(a!.content_type, "image/jpeg");
    assert.equal(a!.width, 512);
    const bytesA = await bytesOf(a!.url as string);
    const bytesB = await bytesOf(b!.url as string);
    assert.equal(bytesA.type, "image/jpeg");
    assert.deepEqual([...bytesA.bytes.subarray(0, 2)], [0xff, 0xd8]);
    assert.deepEqual(readImageDimensions(bytesA.bytes), { width: 512, height: 512 });
    assert.deepEqual(bytesA.bytes, bytesB.bytes);
  });
});

Deno.test("invalid input: a sync run answers 422 at once with pydantic-style detail", async () => {
  await withFake({ jobDurationMs: 20 }, async (fal) => {
    const missing = await run(fal, "fal-ai/flux/dev", {});
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.body, {
      detail: [{ loc: ["body", "prompt"], msg: "field required", type: "value_error.missing" }],
    });
    const wrong = await run(fal, "fal-ai/flux/dev", {
      prompt: 3,
      image_size: "huge",
      num_images: 9,
    });
    assert.equal(wrong.status, 422);
    const detail = wrong.body.detail as Json[];
    const byField = (field: string) => detail.filter((d) => (d.loc as string[])[1] === field);
    assert.equal(byField("prompt")[0]?.type, "type_error.str");
    assert.ok(byField("image_size").some((d) => d.type === "value_error.const"));
    assert.equal(byField("num_images")[0]?.type, "value_error.number.not_le");
    const badJson = await call(`${fal.url}/run/fal-ai/flux/dev`, {
      method: "POST",
      headers: JSON_AUTH,
      body: "{not json",
    });
    assert.equal(badJson.status, 422);
    assert.equal((badJson.body.detail as Json[])[0]?.type, "value_error.jsondecode");
  });
});

Deno.test("invalid input on the queue completes the job without an error on the status; the result answers 422, like fal", async () => {
  await withFake({ jobDurationMs: 100 }, async (fal) => {
    const submitted = await submit(fal, "fal-ai/flux/dev", { num_images: 2 });
    assert.equal(submitted.status, 200);
    const status = await waitCompleted(submitted.body.status_url as string);
    assert.equal(status.error, undefined);
    assert.equal(status.error_type, undefined);
    const result = await call(submitted.body.response_url as string, { headers: AUTH });
    assert.equal(result.status, 422);
    assert.deepEqual(result.body, {
      detail: [{ loc: ["body", "prompt"], msg: "field required", type: "value_error.missing" }],
    });
  });
});

Deno.test("validateOnSubmit rejects an invalid queue submit with 422", async () => {
  await withFake({ validateOnSubmit: true }, async (fal) => {
    const res = await submit(fal, "fal-ai/flux/dev", { prompt: "x", output_format: "gif" });
    assert.equal(res.status, 422);
    const [issue] = res.body.detail as Json[];
    assert.deepEqual(issue?.loc, ["body", "output_format"]);
    assert.equal(fal.state.jobs.size, 0);
  });
});

Deno.test("calls without a valid key answer 401 and never echo the key", async () => {
  await withFake({ keys: ["the-only-key"] }, async (fal) => {
    const missing = await submit(fal, "fal-ai/flux/dev", { prompt: "x" }, {
      "content-type": "application/json",
    });
    assert.equal(missing.status, 401);
    assert.equal(typeof missing.body.detail, "string");
    const wrong = await submit(fal, "fal-ai/flux/dev", { prompt: "x" }, {
      authorization: "Key secret-that-is-wrong",
      "content-type": "application/json",
    });
    assert.equal(wrong.status, 401);
    assert.ok(!JSON.stringify(wrong.body).includes("secret-that-is-wrong"));
    const upload = await call(`${fal.url}/rest/storage/upload/initiate?storage_type=fal-cdn-v3`, {
      method: "POST",
      body: "{}",
    });
    assert.equal(upload.status, 401);
    const pricing = await call(`${fal.url}/api/v1/models/pricing?endpoint_id=fal-ai/flux/dev`);
    assert.equal(pricing.status, 401);
    assert.equal((pricing.body.error as Json).type, "authorization_error");
    const models = await call(`${fal.url}/api/v1/models?limit=1`);
    assert.equal(models.status, 200);
    const ok = await submit(fal, "fal-ai/flux/dev", { prompt: "x" }, {
      authorization: "Key the-only-key",
      "content-type": "application/json",
    });
    assert.equal(ok.status, 200);
    assert.equal(fal.state.requests[0]?.hasAuthorization, false);
    assert.ok(!JSON.stringify(fal.state.requests).includes("secret-that-is-wrong"));
  });
});

Deno.test("unknown apps answer 404 `Application 'x' not found`; unknown paths 404; wrong methods 405", async () => {
  await withFake({}, async (fal) => {
    const app = await submit(fal, "fal-ai/no-such-model", { prompt: "x" });
    assert.equal(app.status, 404);
    assert.deepEqual(app.body, { detail: "Application 'no-such-model' not found" });
    const namespaced = await submit(fal, "workflows/someone/nothing-here", {});
    assert.equal(namespaced.status, 404);
    assert.deepEqual(namespaced.body, { detail: "Application 'nothing-here' not found" });
    const subpath = await submit(fal, "fal-ai/flux/ultra", { prompt: "x" });
    assert.equal(subpath.status, 404);
    const unrouted = await call(`${fal.url}/nowhere`);
    assert.equal(unrouted.status, 404);
    const file = await call(`${fal.url}/files/missing.png`);
    assert.equal(file.status, 404);
    const method = await call(`${fal.url}/queue/fal-ai/flux/dev`, { headers: AUTH });
    assert.equal(method.status, 405);
    const cancelGet = await call(`${fal.url}/queue/fal-ai/flux/requests/abc/cancel`, {
      headers: AUTH,
    });
    assert.equal(cancelGet.status, 405);
    const platform = await call(`${fal.url}/api/v1/nothing`);
    assert.equal(platform.status, 404);
    assert.equal((platform.body.error as Json).type, "not_found");
  });
});

Deno.test("cancel: 202 while queued, then ALREADY_COMPLETED; unknown ids and other keys get NOT_FOUND", async () => {
  await withFake({ jobDurationMs: 5_000 }, async (fal) => {
    const { body } = await submit(fal, "fal-ai/kling-video/v2/master/text-to-video", {
      prompt: "a fox",
    });
    const other = { authorization: "Key someone-else" };
    const foreign = await call(body.cancel_url as string, { method: "PUT", headers: other });
    assert.equal(foreign.status, 404);
    assert.deepEqual(foreign.body, { status: "NOT_FOUND" });
    const foreignStatus = await call(body.status_url as string, { headers: other });
    assert.equal(foreignStatus.status, 404);

    const cancelled = await call(body.cancel_url as string, { method: "PUT", headers: AUTH });
    assert.equal(cancelled.status, 202);
    assert.deepEqual(cancelled.body, { status: "CANCELLATION_REQUESTED" });
    const status = await call(body.status_url as string, { headers: AUTH });
    assert.equal(status.status, 200);
    assert.equal(status.body.status, "COMPLETED");
    assert.equal(status.body.error_type, "client_cancelled");
    const result = await call(body.response_url as string, { headers: AUTH });
    assert.equal(result.status, 499);
    assert.equal(result.body.error_type, "client_cancelled");
    assert.equal(result.headers.get("x-fal-error-type"), "client_cancelled");
    const again = await call(body.cancel_url as string, { method: "PUT", headers: AUTH });
    assert.equal(again.status, 400);
    assert.deepEqual(again.body, { status: "ALREADY_COMPLETED" });
    const unknown = await call(`${fal.url}/queue/fal-ai/flux/requests/nope/cancel`, {
      method: "PUT",
      headers: AUTH,
    });
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, { status: "NOT_FOUND" });
    assert.equal(fal.state.jobs.get(body.request_id as string)?.cancelled, true);
  });
});

Deno.test("cancelling a running job ends its status stream with COMPLETED", async () => {
  await withFake({ jobDurationMs: 5_000, queueSteps: 0 }, async (fal) => {
    const { body } = await submit(fal, "fal-ai/flux/dev", { prompt: "x" });
    const stream = await fetch(`${body.status_url}/stream`, { headers: AUTH });
    const reading = readSse(stream);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const cancelled = await call(body.cancel_url as string, { method: "PUT", headers: AUTH });
    assert.equal(cancelled.status, 202);
    const { events } = await reading;
    assert.equal(events.at(-1)?.status, "COMPLETED");
    assert.equal(events.at(-1)?.error_type, "client_cancelled");
  });
});

Deno.test("fake_fail: model_error completes the job (no error on the status) with a 500 model error result", async () => {
  await withFake({ jobDurationMs: 60 }, async (fal) => {
    const { body } = await submit(fal, "fal-ai/flux/dev", {
      prompt: "x",
      fake_fail: "model_error",
    });
    const status = await waitCompleted(body.status_url as string);
    assert.equal(status.error, undefined);
    const result = await call(body.response_url as string, { headers: AUTH });
    assert.equal(result.status, 500);
    const [issue] = result.body.detail as Json[];
    assert.equal(issue?.type, "internal_server_error");
    assert.deepEqual(issue?.loc, ["body"]);
    const sync = await run(fal, "fal-ai/flux/dev", {
      prompt: "x",
      fake_fail: "runner_disconnected",
      fake_duration_ms: 0,
    });
    assert.equal(sync.status, 503);
    assert.equal(sync.headers.get("x-fal-error-type"), "runner_disconnected");
    assert.deepEqual(sync.body, {
      detail: "Runner disconnected during processing",
      error_type: "runner_disconnected",
    });
  });
});

Deno.test("x-fal-request-timeout shorter than the job ends it with request_timeout (504)", async () => {
  await withFake({}, async (fal) => {
    const { body } = await submit(fal, "fal-ai/flux/dev", {
      prompt: "x",
      fake_duration_ms: 60_000,
    }, { ...JSON_AUTH, "x-fal-request-timeout": "0.1" });
    const status = await waitCompleted(body.status_url as string);
    assert.equal(status.error_type, "request_timeout");
    const result = await call(body.response_url as string, { headers: AUTH });
    assert.equal(result.status, 504);
    assert.deepEqual(result.body, { detail: "Request timed out", error_type: "request_timeout" });
    const bad = await submit(fal, "fal-ai/flux/dev", { prompt: "x" }, {
      ...JSON_AUTH,
      "x-fal-request-timeout": "soon",
    });
    assert.equal(bad.status, 400);
  });
});

Deno.test("a single upload round-trips and its file_url feeds a model (rembg keeps the size)", async () => {
  await withFake({ jobDurationMs: 20 }, async (fal) => {
    const png = renderPng({ width: 40, height: 30, seed: 1 });
    const init = await call(`${fal.url}/rest/storage/upload/initiate?storage_type=fal-cdn-v3`, {
      method: "POST",
      headers: JSON_AUTH,
      body: JSON.stringify({ content_type: "image/png", file_name: "my photo.png" }),
    });
    assert.equal(init.status, 200);
    const uploadUrl = init.body.upload_url as string;
    const fileUrl = init.body.file_url as string;
    assert.ok(uploadUrl.startsWith(fal.url) && fileUrl.startsWith(`${fal.url}/files/`));
    assert.ok(fileUrl.endsWith("my_photo.png"));
    const missing = await fetch(fileUrl);
    await missing.body?.cancel();
    assert.equal(missing.status, 404);
    const put = await fetch(uploadUrl, {
      method: "PUT",
      headers: { "content-type": "image/png" },
      body: png,
    });
    await put.body?.cancel();
    assert.equal(put.status, 200);
    const served = await bytesOf(fileUrl);
    assert.equal(served.type, "image/png");
    assert.deepEqual(served.bytes, png);
    assert.equal(fal.state.uploads[0]?.size, png.length);
    assert.equal(fal.state.uploads[0]?.completed, true);

    const cut = await run(fal, "fal-ai/imageutils/rembg", { image_url: fileUrl });
    assert.equal(cut.status, 200);
    const image = cut.body.image as Json;
    assert.equal(image.width, 40);
    assert.equal(image.height, 30);
    const cutBytes = await bytesOf(image.url as string);
    assert.equal(cutBytes.bytes[25], 6, "colour type RGBA");

    const gone = await run(fal, "fal-ai/imageutils/rembg", {
      image_url: `${fal.url}/files/uploads/nothing/here.png`,
    });
    assert.equal(gone.status, 422);
    assert.equal((gone.body.detail as Json[])[0]?.type, "file_download_error");
  });
});

Deno.test("a multipart upload assembles its parts in order and records them", async () => {
  await withFake({}, async (fal) => {
    const init = await call(
      `${fal.url}/rest/storage/upload/initiate-multipart?storage_type=fal-cdn-v3`,
      {
        method: "POST",
        headers: JSON_AUTH,
        body: JSON.stringify({ content_type: "video/mp4", file_name: "clip.mp4" }),
      },
    );
    assert.equal(init.status, 200);
    const uploadUrl = init.body.upload_url as string;
    const partA = new Uint8Array(1000).fill(1);
    const partB = new Uint8Array(500).fill(2);
    const parts: Json[] = [];
    for (const [n, bytes] of [[2, partB], [1, partA]] as const) {
      const res = await call(`${uploadUrl}/${n}`, { method: "PUT", body: bytes });
      assert.equal(res.status, 200);
      assert.equal(res.body.partNumber, n);
      assert.equal(typeof res.body.etag, "string");
      parts.push(res.body);
    }
    const badEtag = await call(`${uploadUrl}/complete`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ parts: [{ partNumber: 1, etag: "nope" }] }),
    });
    assert.equal(badEtag.status, 400);
    const done = await call(`${uploadUrl}/complete`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ parts }),
    });
    assert.equal(done.status, 200);
    const served = await bytesOf(init.body.file_url as string);
    assert.equal(served.type, "video/mp4");
    assert.equal(served.bytes.length, 1500);
    assert.equal(served.bytes[0], 1);
    assert.equal(served.bytes[1499], 2);
    const upload = fal.state.uploads[0];
    assert.equal(upload?.multipart, true);
    assert.equal(upload?.completed, true);
    assert.deepEqual(upload?.parts.map((p) => [p.partNumber, p.size]), [[1, 1000], [2, 500]]);
  });
});

Deno.test("uploads beyond the kept-bytes cap are counted and served at full length", async () => {
  await withFake({ maxKeptUploadBytes: 100 }, async (fal) => {
    const init = await call(`${fal.url}/rest/storage/upload/initiate?storage_type=fal-cdn-v3`, {
      method: "POST",
      headers: JSON_AUTH,
      body: JSON.stringify({ content_type: "application/octet-stream", file_name: "big.bin" }),
    });
    const put = await fetch(init.body.upload_url as string, {
      method: "PUT",
      body: new Uint8Array(1000).fill(9),
    });
    await put.body?.cancel();
    const served = await bytesOf(init.body.file_url as string);
    assert.equal(served.bytes.length, 1000);
    assert.equal(served.bytes[99], 9);
    assert.equal(fal.state.uploads[0]?.size, 1000);
  });
});

Deno.test("video, audio and transcription outputs have fal's shapes and real bytes", async () => {
  await withFake({ jobDurationMs: 0 }, async (fal) => {
    const video = await run(fal, "fal-ai/kling-video/v2/master/text-to-video", { prompt: "x" });
    const file = video.body.video as Json;
    assert.equal(file.content_type, "video/mp4");
    const mp4 = await bytesOf(file.url as string);
    assert.equal(mp4.bytes.length, file.file_size);
    assert.equal(new TextDecoder().decode(mp4.bytes.subarray(4, 8)), "ftyp");

    const i2v = await run(fal, "fal-ai/wan-i2v", {
      prompt: "x",
      image_url: "https://example.com/cat.png",
      seed: 3,
    });
    assert.equal(i2v.status, 200);
    assert.equal(i2v.body.seed, 3);

    const speech = await run(fal, "fal-ai/kokoro/american-english", { prompt: "Hello there." });
    const audio = speech.body.audio as Json;
    assert.equal(audio.content_type, "audio/wav");
    const wav = await bytesOf(audio.url as string);
    assert.equal(new TextDecoder().decode(wav.bytes.subarray(0, 4)), "RIFF");
    assert.equal(wav.bytes.length, audio.file_size);

    const music = await run(fal, "fal-ai/lyria2", { prompt: "calm piano" });
    assert.equal((music.body.audio as Json).content_type, "audio/wav");

    const text = await run(fal, "fal-ai/whisper", { audio_url: audio.url });
    assert.equal(text.status, 200);
    assert.equal(typeof text.body.text, "string");
    assert.deepEqual(text.body.inferred_languages, ["en"]);
    const chunk = (text.body.chunks as Json[])[0];
    assert.equal((chunk?.timestamp as number[]).length, 2);

    const upscale = await run(fal, "fal-ai/clarity-upscaler", {
      image_url: "https://example.com/a.png",
      upscale_factor: 2,
    });
    assert.deepEqual(
      [(upscale.body.image as Json).width, (upscale.body.image as Json).height],
      [2048, 2048],
    );
    const edit = await run(fal, "fal-ai/flux-pro/kontext", {
      prompt: "add a hat",
      image_url: "https://example.com/a.png",
      sync_mode: true,
    });
    assert.match((edit.body.images as Json[])[0]?.url as string, /^data:image\/jpeg;base64,/);
  });
});

Deno.test("GET /api/v1/models filters by q, category and status, paginates and expands OpenAPI", async () => {
  await withFake({}, async (fal) => {
    const api = `${fal.url}/api/v1/models`;
    const flux = await call(`${api}?q=FLUX`);
    assert.equal(flux.status, 200);
    const fluxIds = (flux.body.models as Json[]).map((m) => m.endpoint_id);
    assert.ok(fluxIds.includes("fal-ai/flux/dev") && fluxIds.includes("fal-ai/flux/schnell"));
    assert.ok(!fluxIds.includes("fal-ai/whisper"));
    assert.equal(flux.body.has_more, false);
    assert.equal(flux.body.next_cursor, null);

    const words = await call(`${api}?q=${encodeURIComponent("text to speech")}`);
    const wordIds = (words.body.models as Json[]).map((m) => m.endpoint_id);
    assert.equal(wordIds[0], "fal-ai/kokoro/american-english");
    assert.ok(!wordIds.includes("fal-ai/flux/dev"));

    const tts = await call(`${api}?category=speech-to-text`);
    const [whisper] = tts.body.models as Json[];
    assert.equal(whisper?.endpoint_id, "fal-ai/whisper");
    const metadata = whisper?.metadata as Json;
    for (const field of ["display_name", "category", "description", "status", "tags"]) {
      assert.ok(field in metadata, field);
    }
    assert.equal(metadata.model_url, `${fal.url}/run/fal-ai/whisper`);
    assert.equal(metadata.kind, "inference");
    assert.equal(whisper?.openapi, undefined);
    const thumb = await bytesOf(metadata.thumbnail_url as string);
    assert.equal(thumb.type, "image/png");

    const deprecated = await call(`${api}?status=deprecated`);
    assert.ok(
      (deprecated.body.models as Json[]).every((m) => (m.metadata as Json).status === "deprecated"),
    );

    const seen: unknown[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
      const page = await call(`${api}?limit=3${query}`);
      assert.equal(page.status, 200);
      const models = page.body.models as Json[];
      assert.ok(models.length <= 3);
      seen.push(...models.map((m) => m.endpoint_id));
      cursor = page.body.next_cursor as string | null;
      assert.equal(page.body.has_more, cursor !== null);
      pages++;
    } while (cursor !== null);
    assert.equal(pages, Math.ceil(CATALOGUE.length / 3));
    assert.deepEqual(seen, CATALOGUE.map((m) => m.endpointId));

    const expanded = await call(
      `${api}?endpoint_id=fal-ai/flux/dev&endpoint_id=fal-ai/stable-diffusion-v15&expand=openapi-3.0`,
    );
    const [dev, sd] = expanded.body.models as Json[];
    const openapi = dev?.openapi as Json;
    assert.match(openapi.openapi as string, /^3\.0/);
    const schemas = (openapi.components as Json).schemas as Record<string, Json>;
    assert.deepEqual(schemas.FluxDevInput?.required, ["prompt"]);
    assert.ok(schemas.FluxDevOutput);
    const paths = openapi.paths as Record<string, Json>;
    const post = (paths["/fal-ai/flux/dev"]?.post as Json).requestBody as Json;
    assert.deepEqual(
      ((post.content as Json)["application/json"] as Json).schema,
      { $ref: "#/components/schemas/FluxDevInput" },
    );
    assert.equal(((sd?.openapi as Json).error as Json).code, "expansion_failed");

    const badLimit = await call(`${api}?limit=0`);
    assert.equal(badLimit.status, 400);
    assert.equal((badLimit.body.error as Json).type, "validation_error");
    const badCursor = await call(`${api}?cursor=%%%`);
    assert.equal(badCursor.status, 400);
  });
});

Deno.test("pricing, estimates and usage answer in the platform API's shapes", async () => {
  await withFake({ jobDurationMs: 0 }, async (fal) => {
    const api = `${fal.url}/api/v1/models`;
    const prices = await call(`${api}/pricing?endpoint_id=fal-ai/flux/dev`, { headers: AUTH });
    assert.equal(prices.status, 200);
    assert.deepEqual(prices.body, {
      prices: [{
        endpoint_id: "fal-ai/flux/dev",
        unit_price: 0.025,
        unit: "image",
        currency: "USD",
      }],
      next_cursor: null,
      has_more: false,
    });
    const appLevel = await call(`${api}/pricing?endpoint_id=fal-ai/kling-video`, { headers: AUTH });
    assert.equal(appLevel.status, 404);
    assert.equal((appLevel.body.error as Json).type, "not_found");

    const estimate = await call(`${api}/pricing/estimate`, {
      method: "POST",
      headers: JSON_AUTH,
      body: JSON.stringify({
        estimate_type: "historical_api_price",
        endpoints: { "fal-ai/flux/dev": { call_quantity: 100 } },
      }),
    });
    assert.deepEqual(estimate.body, {
      estimate_type: "historical_api_price",
      total_cost: 3.75,
      currency: "USD",
    });
    const units = await call(`${api}/pricing/estimate`, {
      method: "POST",
      headers: JSON_AUTH,
      body: JSON.stringify({
        estimate_type: "unit_price",
        endpoints: { "fal-ai/kling-video/v2/master/text-to-video": { unit_quantity: 10 } },
      }),
    });
    assert.equal(units.body.total_cost, 2.8);
    const badEstimate = await call(`${api}/pricing/estimate`, {
      method: "POST",
      headers: JSON_AUTH,
      body: JSON.stringify({ estimate_type: "guess", endpoints: {} }),
    });
    assert.equal(badEstimate.status, 400);

    await run(fal, "fal-ai/flux/dev", { prompt: "x", num_images: 2, image_size: "square" });
    const usage = await call(`${api}/usage?expand=time_series&expand=summary`, { headers: AUTH });
    assert.equal(usage.status, 200);
    assert.deepEqual(usage.body.summary, [
      { endpoint_id: "fal-ai/flux/dev", unit: "image", quantity: 2, unit_price: 0.025 },
    ]);
    const [bucket] = usage.body.time_series as Json[];
    assert.equal(typeof bucket?.bucket, "string");
    assert.equal((bucket?.results as Json[]).length, 1);
    const otherKey = await call(`${api}/usage?expand=summary`, {
      headers: { authorization: "Key another" },
    });
    assert.deepEqual(otherKey.body.summary, []);
  });
});

Deno.test("a fal_webhook receives the result when the job completes", async () => {
  const received: Json[] = [];
  const receiver = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      received.push(await req.json());
      return new Response("ok");
    },
  );
  try {
    await withFake({ jobDurationMs: 30 }, async (fal) => {
      const hook = `http://127.0.0.1:${receiver.addr.port}/hook`;
      const { body } = await submit(
        fal,
        `fal-ai/flux/schnell?fal_webhook=${encodeURIComponent(hook)}`,
        { prompt: "x" },
      );
      await waitCompleted(body.status_url as string);
      for (let i = 0; i < 100 && fal.state.webhooks[0]?.status === undefined; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(fal.state.webhooks[0]?.status, 200);
      assert.equal(received[0]?.request_id, body.request_id);
      assert.equal(received[0]?.status, "OK");
      assert.ok(Array.isArray((received[0]?.payload as Json).images));
    });
  } finally {
    await receiver.shutdown();
  }
});

Deno.test("fake_fail: infrastructure failures show on the COMPLETED status, model failures only in the result", async () => {
  await withFake({ jobDurationMs: 30 }, async (fal) => {
    const cases = [
      { fail: "runner_scheduling_failure", status: 503, type: "runner_scheduling_failure" },
      { fail: "startup_timeout", status: 504, type: "startup_timeout" },
      { fail: "content_policy_violation", status: 422, type: undefined },
    ];
    for (const expected of cases) {
      const { body } = await submit(fal, "fal-ai/flux/schnell", {
        prompt: "x",
        fake_fail: expected.fail,
      });
      const status = await waitCompleted(body.status_url as string);
      assert.equal(typeof status.error, expected.type ? "string" : "undefined", expected.fail);
      assert.equal(status.error_type, expected.type, expected.fail);
      const result = await call(body.response_url as string, { headers: AUTH });
      assert.equal(result.status, expected.status, expected.fail);
      assert.equal(result.headers.get("x-fal-error-type"), expected.type ?? null, expected.fail);
    }
    const unknown = await run(fal, "fal-ai/flux/schnell", { prompt: "x", fake_fail: "nope" });
    assert.equal(unknown.status, 422);
    assert.match(JSON.stringify(unknown.body), /fake_fail/);
  });
});

Deno.test("an injected 429 answers Retry-After with fal's body N times, then requests go through", async () => {
  await withFake({ jobDurationMs: 0 }, async (fal) => {
    const fault = fal.injectFault({ match: "submit", respond: 429, times: 2, retryAfter: 3 });
    for (let i = 0; i < 2; i++) {
      const refused = await submit(fal, "fal-ai/flux/dev", { prompt: "x" });
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get("retry-after"), "3");
      assert.equal(typeof refused.body.detail, "string");
    }
    assert.equal(fal.state.jobs.size, 0, "a refused submit must not create a job");
    const accepted = await submit(fal, "fal-ai/flux/dev", { prompt: "x" });
    assert.equal(accepted.status, 200);
    assert.equal(fault.fired, 2);
    assert.equal(fault.remaining, 0);
    assert.deepEqual(fal.state.requests.map((r) => r.fault ?? null), ["429", "429", null]);

    fal.injectFault({ match: "pricing", respond: 429, retryAfter: 0 });
    const platform = await call(`${fal.url}/api/v1/models/pricing?endpoint_id=fal-ai/flux/dev`, {
      headers: AUTH,
    });
    assert.equal(platform.status, 429);
    assert.equal(platform.headers.get("retry-after"), "0");
    assert.equal((platform.body.error as Json).type, "rate_limited");
  });
});

Deno.test("injected 5xx faults answer in fal's shapes: X-Fal-Error-Type on the queue, {error} on the platform API", async () => {
  await withFake({ jobDurationMs: 20 }, async (fal) => {
    const { body } = await submit(fal, "fal-ai/flux/dev", { prompt: "x" });
    const statusUrl = body.status_url as string;
    const s503 = fal.injectFault({ match: "status", respond: 503 });
    const unavailable = await call(statusUrl, { headers: AUTH });
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.headers.get("x-fal-error-type"), "runner_scheduling_failure");
    assert.deepEqual(unavailable.body, {
      detail: "No runner could be allocated to the request",
      error_type: "runner_scheduling_failure",
    });
    assert.equal(s503.fired, 1);

    fal.injectFault({ match: "status", respond: 504 });
    const timeout = await call(statusUrl, { headers: AUTH });
    assert.equal(timeout.headers.get("x-fal-error-type"), "request_timeout");
    fal.injectFault({ match: "status", respond: 502 });
    const gateway = await call(statusUrl, { headers: AUTH });
    assert.equal(gateway.status, 502);
    assert.equal(gateway.headers.get("x-fal-error-type"), null);
    assert.deepEqual(gateway.body, { detail: "Bad Gateway" });
    fal.injectFault({ match: "result", respond: 500, errorType: "runner_disconnected" });
    await waitCompleted(statusUrl);
    const result = await call(body.response_url as string, { headers: AUTH });
    assert.equal(result.status, 500);
    assert.equal(result.headers.get("x-fal-error-type"), "runner_disconnected");
    assert.equal((await call(body.response_url as string, { headers: AUTH })).status, 200);

    fal.injectFault({ match: "models", respond: 503, message: "maintenance" });
    const models = await call(`${fal.url}/api/v1/models`);
    assert.equal(models.status, 503);
    assert.deepEqual(models.body, { error: { type: "server_error", message: "maintenance" } });
  });
});

Deno.test("an injected drop_stream fault cuts the status stream after its events, never sending COMPLETED", async () => {
  await withFake({ jobDurationMs: 300, queueSteps: 2 }, async (fal) => {
    const fault = fal.injectFault({ match: "status_stream", respond: "drop_stream", events: 1 });
    const { body } = await submit(fal, "fal-ai/flux/dev", { prompt: "x" });
    const dropped = await fetch(`${body.status_url}/stream?logs=1`, { headers: AUTH });
    assert.equal(dropped.status, 200);
    const first = await readSse(dropped);
    assert.equal(first.events.length, 1);
    assert.notEqual(first.events[0]?.status, "COMPLETED");
    assert.equal(fault.fired, 1);

    const whole = await readSse(await fetch(`${body.status_url}/stream`, { headers: AUTH }));
    assert.equal(whole.events.at(-1)?.status, "COMPLETED");

    // Even after completion, a dropped stream does not deliver COMPLETED.
    fal.injectFault({ match: "status_stream", respond: "drop_stream", events: 2 });
    const late = await readSse(await fetch(`${body.status_url}/stream`, { headers: AUTH }));
    assert.deepEqual(late.events, []);
  });
});

Deno.test("fault rules: method + path patterns, Infinity, options.faults, clearFaults, invalid rules refused", async () => {
  await withFake({
    jobDurationMs: 0,
    faults: [{ match: { method: "post", path: /^\/run\/fal-ai\/flux\/schnell$/ }, respond: 502 }],
  }, async (fal) => {
    assert.equal((await run(fal, "fal-ai/flux/dev", { prompt: "x" })).status, 200);
    assert.equal((await run(fal, "fal-ai/flux/schnell", { prompt: "x" })).status, 502);
    assert.equal((await run(fal, "fal-ai/flux/schnell", { prompt: "x" })).status, 200);
    assert.equal(fal.faults[0]?.fired, 1);

    const always = fal.injectFault({ match: "usage", respond: 500, times: Infinity });
    for (let i = 0; i < 3; i++) {
      assert.equal((await call(`${fal.url}/api/v1/models/usage`, { headers: AUTH })).status, 500);
    }
    assert.equal(always.fired, 3);
    fal.clearFaults();
    assert.deepEqual(fal.faults, []);
    assert.equal((await call(`${fal.url}/api/v1/models/usage`, { headers: AUTH })).status, 200);

    assert.throws(() => fal.injectFault({ match: "status", respond: 503, times: 0 }), RangeError);
    assert.throws(
      () => fal.injectFault({ match: "status", respond: 418 as 500 }),
      /respond must be/,
    );
    assert.throws(
      () => fal.injectFault({ match: "everything" as "status", respond: 500 }),
      /unknown target/,
    );
  });
});
