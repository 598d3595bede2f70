/**
 * The committed front-end bundle (src/ui/assets.ts) is what `deno task build-ui` makes from
 * ui/ now, and the published package does not import the build tool.
 */

import assert from "node:assert/strict";
import { buildAssets } from "../ui/build.ts";

Deno.test("src/ui/assets.ts is up to date with ui/ (run `deno task build-ui` when this fails)", async () => {
  const committed = await Deno.readTextFile(new URL("../src/ui/assets.ts", import.meta.url));
  const fresh = await buildAssets();
  assert.ok(committed === fresh, "src/ui/assets.ts differs from a fresh build of ui/");
});

Deno.test("the server's sources never import the front-end or browser test tools", async () => {
  const offenders: string[] = [];
  const walk = async (dir: URL): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) await walk(url);
      else if (entry.name.endsWith(".ts") && entry.name !== "assets.ts") {
        const text = await Deno.readTextFile(url);
        if (/from "(esbuild|playwright-core)"/.test(text)) offenders.push(url.pathname);
      }
    }
  };
  await walk(new URL("../src/", import.meta.url));
  assert.deepEqual(offenders, []);
});
