/**
 * Every example in docs/tools.md runs as written against the fake fal (whose catalogue mirrors
 * fal's real schemas): each tool's example arguments are ones its default model takes. Local paths
 * in the examples become real files, `https://…` URLs files the fake serves, `…` job ids the id of
 * a job submitted first.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { CATALOGUE, thumbnailName } from "./fake_fal/catalogue.ts";
import { renderPng, renderWav } from "./fake_fal/media.ts";
import { allText, withToolClient } from "./helpers/tool_client.ts";
import { withTempDir } from "./helpers/temp_dir.ts";

/** `[tool, example JSON]` for every table row of docs/tools.md that has an example. */
async function examples(): Promise<[string, string][]> {
  const doc = await Deno.readTextFile(new URL("../docs/tools.md", import.meta.url));
  const found: [string, string][] = [];
  for (const line of doc.split("\n")) {
    const tool = /^\| `([a-z_]+)`/.exec(line)?.[1];
    const example = /`(\{.*?\})`/.exec(line.slice(line.indexOf("|", 2)))?.[1];
    if (tool && example) found.push([tool, example]);
  }
  return found;
}

Deno.test("docs/tools.md has an example for every tool it lists", async () => {
  const tools = (await examples()).map(([tool]) => tool);
  assert.ok(tools.length >= 18, `only ${tools.length} examples: ${tools}`);
});

Deno.test("every docs/tools.md example runs against the default model without an error", async () => {
  await withTempDir(async (dir) => {
    const files: Record<string, Uint8Array> = {
      "./photo.png": renderPng({ width: 64, height: 48, seed: 1 }),
      "./small.png": renderPng({ width: 32, height: 32, seed: 2 }),
      "./meeting.mp3": renderWav({ durationSeconds: 1, seed: 3, style: "speech" }),
      "./clip.mp4": new Uint8Array(1024),
    };
    for (const [name, bytes] of Object.entries(files)) {
      await Deno.writeFile(join(dir, name), bytes);
    }
    await withToolClient(async ({ call, fake }) => {
      const model = CATALOGUE.find((m) => m.endpointId === "fal-ai/flux/dev")!;
      const photo = `${fake.url}/files/${thumbnailName(model)}`;
      const submitted = await call("submit_job", {
        endpoint_id: "fal-ai/flux/dev",
        input: { prompt: "a fox" },
      });
      const jobId = String(submitted.structuredContent?.job_id);
      for (const [tool, example] of await examples()) {
        if (example.includes("{…}")) continue; // a placeholder for any model's input
        const text = example
          .replaceAll(/"\.\/([\w.]+)"/g, (_, name: string) => JSON.stringify(join(dir, name)))
          .replaceAll('"https://…/photo.jpg"', JSON.stringify(photo))
          .replaceAll('"…"', JSON.stringify(jobId));
        const answer = await call(tool, JSON.parse(text));
        assert.notEqual(answer.isError, true, `${tool} ${text}: ${allText(answer)}`);
      }
    }, { args: ["--sync-wait", "0", "--allow-local-files", dir] });
  });
});
