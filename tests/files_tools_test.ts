import assert from "node:assert/strict";
import { allText, textOf, withToolClient } from "./helpers/tool_client.ts";
import { renderPng } from "./fake_fal/media.ts";
import { withTempDir } from "./helpers/temp_dir.ts";

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await filesUnder(path));
    else found.push(path);
  }
  return found;
}

Deno.test("upload_file uploads a local file and answers a fal storage URL", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/fox.png`;
    const png = renderPng({ width: 10, height: 10, seed: 9 });
    await Deno.writeFile(path, png);
    await withToolClient(async (ctx) => {
      const answer = await ctx.call("upload_file", { path });
      assert.notEqual(answer.isError, true, allText(answer));
      const url = answer.structuredContent?.url as string;
      assert.equal(answer.structuredContent?.content_type, "image/png");
      const served = new Uint8Array(await (await fetch(url)).arrayBuffer());
      assert.deepEqual(served, png);
      const missing = await ctx.call("upload_file", { path: `${dir}/missing.png` });
      assert.equal(missing.isError, true);
      assert.match(textOf(missing), /missing\.png/);
    }, { args: ["--allow-local-files", dir] });
  });
});

Deno.test("--output-dir saves every generated file; save_to picks a folder inside it", async () => {
  await withTempDir(async (dir) => {
    await withToolClient(async (ctx) => {
      const answer = await ctx.call("generate_image", { prompt: "x", count: 2 });
      assert.notEqual(answer.isError, true, allText(answer));
      const saved = answer.structuredContent?.saved_files as string[];
      assert.equal(saved.length, 2);
      for (const path of saved) assert.ok(path.startsWith(dir), path);
      assert.match(allText(answer), /Saved .* to /);

      const nested = await ctx.call("generate_image", { prompt: "y", save_to: "foxes/run1" });
      const nestedSaved = nested.structuredContent?.saved_files as string[];
      assert.ok(nestedSaved[0]!.startsWith(`${dir}/foxes/run1/`), nestedSaved[0]);
      assert.equal((await filesUnder(dir)).length, 3);
    }, { args: ["--output-dir", dir] });
  });
});

Deno.test("save_to refuses paths that escape the output directory and writes nothing", async () => {
  await withTempDir(async (dir) => {
    const outside = await Deno.makeTempDir();
    try {
      await Deno.symlink(outside, `${dir}/link`);
      await withToolClient(async (ctx) => {
        for (const saveTo of ["../escape", "/etc", "a/../../b", "link/inside"]) {
          const answer = await ctx.call("run_model", {
            endpoint_id: "fal-ai/flux/dev",
            input: { prompt: "x" },
            save_to: saveTo,
          });
          assert.equal(answer.isError, true, `save_to ${saveTo} was accepted`);
          assert.match(textOf(answer), /escapes the output directory/);
        }
        assert.equal(ctx.fake.state.jobs.size, 0, "refused before anything was submitted");
      }, { args: ["--output-dir", dir] });
      assert.deepEqual(await filesUnder(outside), []);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  });
});

Deno.test("fal failures: a submit answered 503 is retried and the image is generated", async () => {
  await withToolClient(async (ctx) => {
    const fault = ctx.fake.injectFault({ match: "submit", respond: 503 });
    const answer = await ctx.call("generate_image", { prompt: "x" });
    assert.notEqual(answer.isError, true, allText(answer));
    assert.equal(fault.fired, 1);
    assert.equal(ctx.fake.accepted().length, 1);
  });
});

Deno.test("fal failures: a submit answered 503 every time is reported clearly after bounded retries", async () => {
  await withToolClient(async (ctx) => {
    const fault = ctx.fake.injectFault({ match: "submit", respond: 503, times: Infinity });
    const answer = await ctx.call("generate_image", { prompt: "x" });
    assert.equal(answer.isError, true);
    assert.match(textOf(answer), /Cannot submit job to fal-ai\/flux\/dev: fal answered 503/);
    assert.equal(fault.fired, 4);
    assert.equal(ctx.fake.state.jobs.size, 0);
  });
});

Deno.test("fal failures: a rate-limited submit is retried after Retry-After and succeeds", async () => {
  await withToolClient(async (ctx) => {
    const fault = ctx.fake.injectFault({ match: "submit", respond: 429, retryAfter: 0 });
    const answer = await ctx.call("generate_image", { prompt: "x" });
    assert.notEqual(answer.isError, true, allText(answer));
    assert.equal(fault.fired, 1);
  });
});

Deno.test("fal failures: status errors and a dropped status stream do not lose the job", async () => {
  await withToolClient(async (ctx) => {
    ctx.fake.injectFault({ match: "status_stream", respond: "drop_stream" });
    const statusFault = ctx.fake.injectFault({ match: "status", respond: 503, times: 2 });
    const answer = await ctx.call("generate_image", { prompt: "x" });
    assert.notEqual(answer.isError, true, allText(answer));
    assert.ok(answer.content.some((c) => c.type === "resource_link"));
    assert.ok(statusFault.fired >= 1, "the server fell back to polling the status");
  });
});
