/**
 * The scenario every client test runs: list the tools, then generate an image with `run_model`
 * against the fake fal, receiving progress, and check the image URL serves a real PNG.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type FakeFal, startFakeFal } from "../fake_fal/server.ts";

/** The fal key tests use (the fake accepts it). */
export const TEST_FAL_KEY = "test-key-id:test-key-secret";

/** Environment pointing the server at the fake. */
export function falEnv(fake: FakeFal): Record<string, string> {
  return { FAL_KEY: TEST_FAL_KEY, FAL_BASE_URL: fake.url };
}

/** Starts the fake fal with quick jobs, runs `fn`, stops the fake. */
export async function withFakeFal<T>(
  fn: (fake: FakeFal) => Promise<T>,
  options: Parameters<typeof startFakeFal>[0] = {},
): Promise<T> {
  const fake = await startFakeFal({ jobDurationMs: 300, queueSteps: 2, ...options });
  try {
    return await fn(fake);
  } finally {
    await fake.close();
  }
}

interface ContentBlockLike {
  type: string;
  uri?: string;
  mimeType?: string;
  text?: string;
}

interface ToolResultLike {
  content?: unknown;
  isError?: boolean;
}

/** What both SDK clients offer for this scenario. */
export interface ScenarioClient {
  listTools(): Promise<{ tools: { name: string }[] }>;
}

/** Calls a tool with a progress callback, whichever SDK generation the client is. */
export type CallWithProgress = (
  name: string,
  args: Record<string, unknown>,
  onprogress: (progress: { progress: number; message?: string }) => void,
) => Promise<unknown>;

/** Asserts the tool list holds the fal tools. */
export async function assertFalTools(client: ScenarioClient): Promise<void> {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  for (const name of ["search_models", "get_model_schema", "run_model"]) {
    assert.ok(names.includes(name), `${name} missing from tools/list: ${names.join(", ")}`);
  }
}

/** Runs fal-ai/flux/dev through `run_model`; asserts progress, a link, and a real PNG. */
export async function assertImageGenerated(call: CallWithProgress): Promise<void> {
  const progress: { progress: number; message?: string }[] = [];
  const result = await call(
    "run_model",
    { endpoint_id: "fal-ai/flux/dev", input: { prompt: "a red fox in the snow", seed: 7 } },
    (p) => progress.push(p),
  ) as ToolResultLike;
  const content = result.content as ContentBlockLike[];
  assert.notEqual(result.isError, true, JSON.stringify(content));
  const link = content.find((c) => c.type === "resource_link");
  assert.ok(link?.uri, `no resource_link in ${JSON.stringify(content)}`);
  assert.equal(link.mimeType?.startsWith("image/"), true);
  const image = await fetch(link.uri);
  assert.equal(image.status, 200);
  const bytes = new Uint8Array(await image.arrayBuffer());
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  assert.ok(isPng || isJpeg, "the image URL does not serve an image");
  assert.ok(progress.length >= 1, "no progress notification reached the client");
  const values = progress.map((p) => p.progress);
  assert.deepEqual(values, [...values].sort((a, b) => a - b), "progress must increase");
}
