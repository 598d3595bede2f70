/**
 * The server's machine belongs to the operator: HTTP callers name server files only inside the
 * folder the operator shared (`--allow-local-files DIR`), wherever they connect from (a
 * same-host reverse proxy makes everyone 127.0.0.1), and results are written to disk for them
 * only under `--output-dir`. stdio callers run the server themselves and keep their files.
 */

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import assert from "node:assert/strict";
import type { FakeFal } from "./fake_fal/server.ts";
import { renderPng } from "./fake_fal/media.ts";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { mainArgs } from "./helpers/process.ts";
import { startReverseProxy } from "./helpers/reverse_proxy.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";
import { withTempDir } from "./helpers/temp_dir.ts";
import { allText, type ToolAnswer } from "./helpers/tool_client.ts";

type Call = (name: string, args: Record<string, unknown>) => Promise<ToolAnswer>;

/** The real server on a loopback bind, reached only through a same-host proxy. */
async function behindProxy(
  args: string[],
  fn: (call: Call, fake: FakeFal) => Promise<void>,
): Promise<void> {
  await withFakeFal(async (fake) => {
    const server = await startTestHttpServer({ env: falEnv(fake), args });
    const proxy = startReverseProxy(server.url);
    const client = new Client({ name: "remote-behind-proxy", version: "1.0.0" }, {
      versionNegotiation: { mode: { pin: "2026-07-28" } },
    });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(`${proxy.url}/mcp`)));
      await fn(
        async (name, args) =>
          await client.callTool({ name, arguments: args }, { timeout: 60_000 }) as ToolAnswer,
        fake,
      );
      assert.ok(proxy.forwarded > 0, "the calls went through the proxy");
    } finally {
      await client.close();
      await proxy.close();
      await server.close();
    }
  });
}

function assertRefused(answer: ToolAnswer, pattern: RegExp, what: string): void {
  assert.equal(answer.isError, true, `${what} was accepted: ${allText(answer)}`);
  assert.match(allText(answer), pattern, what);
}

Deno.test("an HTTP caller behind a same-host proxy (loopback bind, no --allow-local-files) is refused every server file", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/photo.png`;
    await Deno.writeFile(path, renderPng({ width: 8, height: 8, seed: 1 }));
    await behindProxy([], async (call, fake) => {
      const attempts: [string, Record<string, unknown>][] = [
        ["upload_file", { path: "/etc/hostname" }],
        ["upload_file", { path }],
        ["upload_file", { path: `file://${path}` }],
        ["remove_background", { image: path }],
        ["transcribe_audio", { audio: "/etc/passwd" }],
      ];
      for (const [name, args] of attempts) {
        assertRefused(
          await call(name, args),
          /does not read its own files for HTTP clients.*--allow-local-files DIR/s,
          `${name} ${JSON.stringify(args)}`,
        );
      }
      assert.equal(fake.state.uploads.length, 0, "nothing was uploaded");
      assert.equal(fake.state.jobs.size, 0, "nothing was submitted");
    });
  });
});

Deno.test("with --allow-local-files DIR an HTTP caller uploads files inside DIR; outside, .. and escaping symlinks are refused", async () => {
  await withTempDir(async (root) => {
    const shared = `${root}/shared`;
    const outside = `${root}/outside`;
    await Deno.mkdir(`${shared}/sub`, { recursive: true });
    await Deno.mkdir(outside);
    const png = renderPng({ width: 8, height: 8, seed: 2 });
    await Deno.writeFile(`${shared}/sub/in.png`, png);
    await Deno.writeTextFile(`${outside}/secret.env`, "FAL_KEY=operator-secret-key\n");
    await Deno.symlink(`${outside}/secret.env`, `${shared}/link.env`);
    await Deno.symlink(outside, `${shared}/dirlink`);
    await Deno.symlink(`${shared}/sub/in.png`, `${shared}/inner-link.png`);

    await behindProxy(["--allow-local-files", shared], async (call, fake) => {
      for (const path of [`${shared}/sub/in.png`, "sub/in.png", `${shared}/inner-link.png`]) {
        const answer = await call("upload_file", { path });
        assert.notEqual(answer.isError, true, `${path}: ${allText(answer)}`);
        assert.equal(answer.structuredContent?.size, png.length, path);
      }
      const escapes = [
        `${outside}/secret.env`,
        `${shared}/../outside/secret.env`,
        "../outside/secret.env",
        `${shared}/link.env`,
        `${shared}/dirlink/secret.env`,
        "/etc/hostname",
      ];
      for (const path of escapes) {
        assertRefused(
          await call("upload_file", { path }),
          /outside the folder this server shares/,
          path,
        );
      }
      assertRefused(
        await call("remove_background", { image: `${shared}/link.env` }),
        /outside the folder this server shares/,
        "remove_background through an escaping symlink",
      );
      assert.match(
        allText(await call("upload_file", { path: `${shared}/missing.png` })),
        /no such file in the shared folder/,
      );
      assert.equal(fake.state.uploads.length, 3, "only the three files inside were uploaded");
      assert.ok(fake.state.uploads.every((u) => u.size === png.length));
      assert.equal(fake.state.jobs.size, 0);
    });
  });
});

Deno.test("a stdio caller still uploads any local file by path", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/anywhere.png`;
    const png = renderPng({ width: 8, height: 8, seed: 3 });
    await Deno.writeFile(path, png);
    await withFakeFal(async (fake) => {
      const client = new Client({ name: "stdio-local", version: "1.0.0" });
      await client.connect(
        new StdioClientTransport({
          command: Deno.execPath(),
          args: mainArgs(),
          env: { ...falEnv(fake), NO_COLOR: "1", FAL_MCP_JOB_STORE: "memory", HOME: dir },
          stderr: "pipe",
        }),
      );
      try {
        const answer = await client.callTool({
          name: "upload_file",
          arguments: { path },
        }) as ToolAnswer;
        assert.notEqual(answer.isError, true, allText(answer));
        assert.equal(answer.structuredContent?.size, png.length);
        assert.equal(fake.state.uploads.length, 1);
      } finally {
        await client.close();
      }
    });
  });
});

Deno.test("save_to from an HTTP caller is refused before submitting when the server has no --output-dir", async () => {
  await behindProxy([], async (call, fake) => {
    for (
      const [name, args] of [
        ["generate_image", { prompt: "a fox", save_to: "foxes" }],
        ["run_model", {
          endpoint_id: "fal-ai/flux/dev",
          input: { prompt: "a fox" },
          save_to: "foxes",
        }],
        ["get_job", { job_id: "any-job", save_to: "foxes" }],
      ] as const
    ) {
      assertRefused(
        await call(name, args),
        /save_to is not available: this server writes files to its disk only when its operator sets --output-dir/,
        name,
      );
    }
    assert.equal(fake.state.jobs.size, 0, "nothing was submitted (nor paid for)");
    // Without save_to the same call works and answers links.
    const plain = await call("generate_image", { prompt: "a fox" });
    assert.notEqual(plain.isError, true, allText(plain));
    assert.equal(plain.structuredContent?.saved_files, undefined);
  });
});
