/**
 * fal's results are data, not instructions: the server fetches result media (previews, saved
 * files) only from fal's media hosts and the configured fal base URL, over https (http only for a
 * loopback fal base URL), with redirects checked the same way, never into private address space,
 * and never more bytes than its download cap. Anything else is passed on as a link.
 */

import assert from "node:assert/strict";
import { isNonPublicAddress } from "../src/files/private_address.ts";
import {
  DownloadTooLargeError,
  MediaFetcher,
  MediaNotFetchedError,
} from "../src/files/media_fetch.ts";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import { withTempDir } from "./helpers/temp_dir.ts";
import { allText, type ToolAnswer, withToolClient } from "./helpers/tool_client.ts";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";

/** A server on 127.0.0.1 that counts every request it sees (it should see none). */
function startTarget(): { url: string; seen: string[]; close(): Promise<void> } {
  const seen: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    seen.push(new URL(req.url).pathname);
    return new Response("internal secret", { headers: { "content-type": "image/png" } });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, close: () => server.shutdown() };
}

/** GET requests the server answered on paths other than its MCP endpoints (e.g. /metrics). */
async function otherGets(serverUrl: string): Promise<number> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  const line = text.split("\n").find((l) =>
    l.startsWith("fal_mcp_http_requests_total{") && l.includes('transport="other"') &&
    l.includes('method="GET"')
  );
  return line ? Number(line.split(" ").at(-1)) : 0;
}

Deno.test("a result pointing at a loopback URL, at the server's own /metrics, or redirecting inward is never fetched; the links are still returned", async () => {
  const target = startTarget();
  try {
    await withTempDir(async (out) => {
      await withFakeFal(async (fake) => {
        const server = await startTestHttpServer({
          env: falEnv(fake),
          args: ["--output-dir", out],
        });
        const client = new Client({ name: "hostile-result", version: "1.0.0" }, {
          versionNegotiation: { mode: { pin: "2026-07-28" } },
        });
        try {
          await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
          const hostile = [
            `${target.url}/loopback.png`,
            `${server.url}/metrics`,
            `${fake.url}/redirect?to=${encodeURIComponent(`${target.url}/inward.png`)}`,
            `${fake.url}/redirect?to=${encodeURIComponent(`${server.url}/metrics`)}`,
            `https://127.0.0.1:${new URL(target.url).port}/tls.png`,
            "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "http://v3.fal.media/files/plain-http.png",
          ];
          const before = await otherGets(server.url);
          const answer = await client.callTool({
            name: "run_model",
            arguments: {
              endpoint_id: "fal-ai/flux/dev",
              input: {
                prompt: "a fox",
                fake_output: {
                  images: hostile.map((url) => ({ url, content_type: "image/png" })),
                },
              },
              validate: false,
            },
          }, { timeout: 60_000 }) as ToolAnswer;
          assert.notEqual(answer.isError, true, allText(answer));
          const links = answer.content.filter((c) => c.type === "resource_link").map((c) => c.uri);
          assert.deepEqual(links, hostile, "every URL is passed on as a link");
          assert.equal(answer.content.filter((c) => c.type === "image").length, 0);
          assert.deepEqual(answer.structuredContent?.saved_files, []);
          assert.match(allText(answer), /Not saved: 7 file\(s\) not on fal's media hosts/);
          assert.deepEqual(target.seen, [], "the loopback target saw no request");
          // Our own two reads of /metrics are the only GETs it answered besides MCP.
          const after = await otherGets(server.url);
          assert.ok(
            after - before <= 1,
            `the server read its own /metrics (${before} -> ${after})`,
          );
          const redirects = fake.state.requests.filter((r) => r.path === "/redirect");
          assert.equal(redirects.length, 4, "each redirect was asked for once (save and preview)");
        } finally {
          await client.close();
          await server.close();
        }
      });
      for await (const _ of Deno.readDir(out)) assert.fail("nothing may be written");
    });
  } finally {
    await target.close();
  }
});

Deno.test("a download over --max-download-bytes fails clearly and leaves no file", async () => {
  await withTempDir(async (out) => {
    await withToolClient(async (ctx) => {
      const answer = await ctx.call("generate_image", { prompt: "a fox", save_to: "foxes" });
      assert.equal(answer.isError, true, allText(answer));
      assert.match(
        allText(answer),
        /larger than this server's download cap of 1024 bytes \(--max-download-bytes\)/,
      );
      const saved: string[] = [];
      for await (const entry of Deno.readDir(`${out}/foxes`)) saved.push(entry.name);
      assert.deepEqual(saved, []);
      // The job itself is kept: its links are one get_job away.
      const jobs = [...ctx.fake.state.jobs.values()];
      assert.equal(jobs.length, 1);
      const again = await ctx.call("get_job", { job_id: jobs[0]!.requestId });
      assert.equal(again.isError, true, "get_job saves to --output-dir too, and hits the cap");
    }, { args: ["--output-dir", out, "--max-download-bytes", "1024"] });
  });
});

Deno.test("a streamed body without a length errors at the cap and is not read further", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ >= 10_240) return controller.close(); // 10 MiB in all
        controller.enqueue(new Uint8Array(1024));
      },
    });
    return new Response(stream);
  });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    let received = 0;
    const counting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const count = new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          received += chunk.length;
          controller.enqueue(chunk);
        },
      });
      return new Response(response.body!.pipeThrough(count), { headers: response.headers });
    };
    const media = new MediaFetcher({ maxBytes: 64 * 1024, falBaseUrl: base, fetch: counting });
    const response = await media.get(`${base}/files/big.bin`);
    await assert.rejects(response.arrayBuffer(), DownloadTooLargeError);
    assert.ok(received < 1024 * 1024, `the body was read on past the cap (${received} bytes)`);
  } finally {
    await server.shutdown();
  }
});

Deno.test("fal media hosts are fetched only over https, and never when the name resolves to a private address", async () => {
  const calls: string[] = [];
  const recording: typeof fetch = (input) => {
    calls.push(String(input));
    return Promise.resolve(new Response("ok", { headers: { "content-length": "2" } }));
  };
  const resolved: Record<string, string[]> = {
    "v3.fal.media": ["34.117.59.81", "2600:1901:0:1234::"],
    "evil.fal.media": ["34.117.59.81", "::ffff:127.0.0.1"],
    "rebind.fal.media": ["169.254.169.254"],
    "fal.media": ["10.0.0.8"],
    "storage.googleapis.com": ["142.250.74.219"],
  };
  const media = new MediaFetcher({
    maxBytes: 1024,
    fetch: recording,
    lookup: (host) => Promise.resolve(resolved[host] ?? []),
  });
  await media.get("https://v3.fal.media/files/lion/out.png");
  await media.get("https://storage.googleapis.com/falserverless/example_outputs/a.png");
  assert.equal(calls.length, 2);
  for (
    const url of [
      "https://evil.fal.media/x.png", // one address is IPv4-mapped loopback
      "https://rebind.fal.media/x.png", // cloud metadata
      "https://fal.media/x.png", // private
      "https://nowhere.fal.media/x.png", // does not resolve
      "http://v3.fal.media/x.png", // not https
      "https://v3.fal.media:8443/x.png", // another port
      "https://storage.googleapis.com/other-bucket/a.png", // not fal's bucket
      "https://fal.media.evil.example/x.png",
      "https://user:pw@v3.fal.media/x.png",
      "https://127.0.0.1/x.png",
      "https://[::1]/x.png",
      "file:///etc/passwd",
    ]
  ) {
    await assert.rejects(media.get(url), (error: Error) => {
      assert.ok(
        error instanceof MediaNotFetchedError || /does not resolve/.test(error.message),
        `${url}: ${error.message}`,
      );
      return true;
    });
  }
  assert.equal(calls.length, 2, "no refused URL was connected to");
});

Deno.test("a redirect from a fal media host to anywhere else is not followed", async () => {
  const calls: string[] = [];
  const redirecting: typeof fetch = (input) => {
    calls.push(String(input));
    const location = String(input).includes("/first")
      ? "https://v3.fal.media/second"
      : "http://127.0.0.1:9/metrics";
    return Promise.resolve(new Response(null, { status: 302, headers: { location } }));
  };
  const media = new MediaFetcher({
    maxBytes: 1024,
    fetch: redirecting,
    lookup: () => Promise.resolve(["34.117.59.81"]),
  });
  await assert.rejects(media.get("https://v3.fal.media/first"), MediaNotFetchedError);
  assert.deepEqual(calls, ["https://v3.fal.media/first", "https://v3.fal.media/second"]);
});

Deno.test("private, loopback, link-local and embedded-IPv4 addresses are recognised", () => {
  for (
    const address of [
      "127.0.0.1",
      "127.8.9.10",
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "::",
      "::1",
      "[::1]",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "::ffff:169.254.169.254",
      "::127.0.0.1",
      "64:ff9b::a00:1",
      "2002:7f00:1::",
      "fc00::1",
      "fd12:3456::1",
      "fe80::1",
      "fe80::1%eth0",
      "ff02::1",
      "not-an-address",
    ]
  ) {
    assert.equal(isNonPublicAddress(address), true, address);
  }
  for (
    const address of [
      "34.117.59.81",
      "8.8.8.8",
      "172.32.0.1",
      "2600:1901:0:1234::",
      "::ffff:8.8.8.8",
      "2a00:1450:4001:82b::200e",
    ]
  ) {
    assert.equal(isNonPublicAddress(address), false, address);
  }
});
