import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { waitForLogLine } from "./helpers/process.ts";
import { assertImageGenerated } from "./helpers/scenario.ts";
import { withToolClient } from "./helpers/tool_client.ts";

const root = new URL("..", import.meta.url).pathname;

function spawn(script: string, ...args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--config", `${root}deno.json`, `${root}${script}`, ...args],
    env: { NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("deno task demo: an MCP client generates an image and uploads a file of the demo's folder without a fal key, SIGTERM exits 0", async () => {
  const demo = spawn("tests/fake_fal/demo.ts", "--port", "0");
  try {
    const listening = await waitForLogLine(demo.stderr, (r) => r.msg === "listening");
    const client = new Client({ name: "demo-test", version: "1.0.0" });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(String(listening.mcp))));
      await assertImageGenerated((name, args, onprogress) =>
        client.callTool({ name, arguments: args }, { onprogress, timeout: 30_000 })
      );
      // The demo shares its own folder with HTTP callers, and nothing else of the machine.
      const inside = await client.callTool({
        name: "upload_file",
        arguments: { path: `${root}tests/fake_fal/demo.ts` },
      });
      assert.notEqual(inside.isError, true, JSON.stringify(inside.content));
      const outside = await client.callTool({
        name: "upload_file",
        arguments: { path: `${root}deno.json` },
      });
      assert.equal(outside.isError, true);
      assert.match(JSON.stringify(outside.content), /outside the folder this server shares/);
    } finally {
      await client.close();
    }
    // The studio works offline against the fake, and shows the job just made.
    assert.equal(listening.studio, `${new URL(String(listening.mcp)).origin}/studio`);
    const page = await fetch(String(listening.studio));
    assert.match(await page.text(), /fal studio/);
    const jobs = await (await fetch(`${listening.studio}/api/jobs`)).json();
    assert.ok(jobs.jobs.length >= 1);
  } finally {
    demo.kill("SIGTERM");
    const status = await demo.status;
    await demo.stdout.cancel();
    await demo.stderr.cancel().catch(() => {});
    assert.equal(status.code, 0);
  }
});

Deno.test("deno task fake-fal: the fake alone announces its URL and serves the catalogue", async () => {
  const fake = spawn("tests/fake_fal/main.ts", "--port", "0");
  try {
    const reader = fake.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let line = "";
    while (!line.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      line += value;
    }
    reader.releaseLock();
    const url = JSON.parse(line.trim()).fake_fal as string;
    const models = await (await fetch(`${url}/api/v1/models?limit=50`)).json();
    assert.ok(models.models.length >= 8);
  } finally {
    fake.kill("SIGTERM");
    await fake.status;
    await fake.stdout.cancel().catch(() => {});
    await fake.stderr.cancel();
  }
});

Deno.test("README's demo sentence is what the fake returns for the call it suggests", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const demo = await Deno.readTextFile(new URL("../tests/fake_fal/demo.ts", import.meta.url));
  const sentence =
    /call `run_model` with\s+`(\{.*?\})`: the fake renders a real\s+(\d+)x(\d+) (JPEG|PNG)/s
      .exec(readme);
  assert.ok(sentence, "README's demo sentence not found");
  const [, call, width, height, format] = sentence;
  assert.ok(demo.includes(`'${call}'`), "the demo banner suggests another call than README");
  await withToolClient(async ({ call: callTool }) => {
    const result = await callTool("run_model", JSON.parse(call!));
    assert.ok(!result.isError, JSON.stringify(result));
    const link = result.content.find((c) => c.type === "resource_link");
    assert.equal(link?.mimeType, `image/${format!.toLowerCase()}`);
    const image = (result.structuredContent?.result as { images: Record<string, unknown>[] })
      .images[0]!;
    assert.equal(`${image.width}x${image.height}`, `${width}x${height}`);
    const bytes = new Uint8Array(await (await fetch(String(image.url))).arrayBuffer());
    const magic = format === "JPEG" ? [0xff, 0xd8, 0xff] : [0x89, 0x50, 0x4e, 0x47];
    assert.deepEqual([...bytes.slice(0, magic.length)], magic);
  });
});
