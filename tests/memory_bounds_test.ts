/**
 * Memory stays flat whatever a result holds: a 100 MB result is cut to its media URLs above
 * `--max-result-bytes`, and a result listing 400 images inlines only a bounded number of
 * previews. The server runs as a real process and its peak resident size (`VmHWM` in
 * /proc/PID/status) is checked against a generous absolute cap.
 */

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import assert from "node:assert/strict";
import { FalClient } from "../src/fal/client.ts";
import { resolveFalHosts } from "../src/fal/hosts.ts";
import { FalStorage } from "../src/fal/storage.ts";
import { MAX_INLINE_IMAGES } from "../src/tools/present_job.ts";
import { listeningAndDrained, mainArgs } from "./helpers/process.ts";
import { falEnv, TEST_FAL_KEY, withFakeFal } from "./helpers/scenario.ts";
import { allText, type ToolAnswer } from "./helpers/tool_client.ts";

/** A generous cap on the server's peak resident memory (a bare process takes ~100 MB). */
const PEAK_RSS_CAP_BYTES = 400 * 1024 * 1024;

/** The peak resident set size of a process, from /proc (Linux). */
async function peakRssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  assert.ok(kb, "VmHWM missing from /proc status");
  return Number(kb) * 1024;
}

Deno.test({
  name: "a 100 MB result and a 400-image result keep the server's peak RSS bounded",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await withFakeFal(async (fake) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: mainArgs("--transport", "http", "--port", "0", "--sync-wait", "120"),
        env: { ...falEnv(fake), FAL_MCP_JOB_STORE: "memory", NO_COLOR: "1" },
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const client = new Client({ name: "memory-bounds", version: "1.0.0" }, {
        versionNegotiation: { mode: { pin: "2026-07-28" } },
      });
      try {
        const { url } = await listeningAndDrained(child.stderr);
        await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
        const call = async (args: Record<string, unknown>) =>
          await client.callTool({ name: "run_model", arguments: args }, {
            timeout: 120_000,
          }) as ToolAnswer;

        // 1. A result of 100 MB: the record keeps its media URLs and says the rest was cut.
        const huge = await call({
          endpoint_id: "fal-ai/flux/dev",
          input: { prompt: "a fox", fake_output_bytes: 100_000_000 },
          validate: false,
        });
        assert.notEqual(huge.isError, true, allText(huge).slice(0, 2000));
        assert.match(allText(huge), /more than this server keeps \(--max-result-bytes 16777216\)/);
        const hugeLinks = huge.content.filter((c) => c.type === "resource_link");
        assert.equal(hugeLinks.length, 1, "the image URL survived the cut");
        assert.ok(hugeLinks[0]!.uri!.startsWith(`${fake.url}/files/`));

        // 2. A result listing 400 images of ~200 KB each (each under the inline cap).
        const storage = new FalStorage({
          fal: new FalClient({ hosts: resolveFalHosts(fake.url), key: TEST_FAL_KEY }),
          hosts: resolveFalHosts(fake.url),
        });
        const picture = new Uint8Array(200_000);
        for (let i = 0; i < picture.length; i += 65_536) {
          crypto.getRandomValues(picture.subarray(i, i + 65_536));
        }
        const uploaded = await storage.uploadBytes(picture, "image/png", "picture.png");
        const images = Array.from({ length: 400 }, (_, i) => ({
          url: `${uploaded.url}?n=${i}`,
          content_type: "image/png",
          width: 512,
          height: 512,
        }));
        const many = await call({
          endpoint_id: "fal-ai/flux/dev",
          input: { prompt: "a fox", fake_output: { images } },
          validate: false,
        });
        assert.notEqual(many.isError, true, allText(many).slice(0, 2000));
        assert.equal(many.content.filter((c) => c.type === "resource_link").length, 400);
        const inlined = many.content.filter((c) => c.type === "image").length;
        assert.ok(inlined <= MAX_INLINE_IMAGES, `${inlined} images inlined`);
        const fetched = fake.state.requests.filter((r) => r.path.startsWith("/files/")).length;
        assert.ok(fetched <= 2 * MAX_INLINE_IMAGES, `${fetched} previews fetched`);

        const peak = await peakRssBytes(child.pid);
        assert.ok(
          peak < PEAK_RSS_CAP_BYTES,
          `peak RSS ${Math.round(peak / 1048576)} MB is over ${PEAK_RSS_CAP_BYTES / 1048576} MB`,
        );
      } finally {
        await client.close().catch(() => {});
        child.kill("SIGTERM");
        await child.status;
      }
    });
  },
});
