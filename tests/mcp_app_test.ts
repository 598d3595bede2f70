/**
 * The MCP App (io.modelcontextprotocol/ui): media-producing tools link the `ui://` view, the
 * view's resource declares fal's media origin in its CSP, app-only tools are hidden from the
 * model; and in headless Chromium, the view rendered by a small host that speaks the
 * extension's postMessage protocol shows a tool result, and its action buttons call the
 * app-only tools, whose new job fills in when done. Saves docs/mcp-app.png.
 */

import assert from "node:assert/strict";
import * as esbuild from "esbuild";
import { RESOURCE_MIME_TYPE } from "@modelcontextprotocol/ext-apps/server";
import { launchChromium, SKIP_BROWSER } from "./helpers/browser.ts";
import { withToolClient } from "./helpers/tool_client.ts";

const URI = "ui://fal-mcp/media.html";
/** Screenshots go to docs/ with UPDATE_SCREENSHOTS=1 (to refresh them), else to a temp file. */
const TO_DOCS = Deno.env.get("UPDATE_SCREENSHOTS") === "1";
const DOCS_SCREENSHOT = new URL("../docs/mcp-app.png", import.meta.url).pathname;

interface ToolLike {
  name: string;
  _meta?: { ui?: { resourceUri?: string; visibility?: string[] }; "ui/resourceUri"?: string };
}

Deno.test("MCP App: media tools link the ui:// view; its resource declares fal's media origin", () =>
  withToolClient(async ({ client, fake, call }) => {
    const { tools } = await client.listTools() as { tools: ToolLike[] };
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of ["generate_image", "generate_video", "run_model", "get_job"]) {
      assert.equal(byName.get(name)?._meta?.ui?.resourceUri, URI, `${name} links the view`);
      assert.equal(byName.get(name)?._meta?.["ui/resourceUri"], URI);
    }
    assert.equal(byName.get("search_models")?._meta?.ui, undefined);
    for (const name of ["media_job", "media_action"]) {
      assert.deepEqual(byName.get(name)?._meta?.ui?.visibility, ["app"]);
    }

    const resource = await client.readResource({ uri: URI });
    const [content] = resource.contents as unknown as {
      mimeType: string;
      text: string;
      _meta: { ui: { csp: { resourceDomains: string[] } } };
    }[];
    assert.equal(content!.mimeType, RESOURCE_MIME_TYPE);
    assert.equal(RESOURCE_MIME_TYPE, "text/html;profile=mcp-app");
    assert.deepEqual(content!._meta.ui.csp.resourceDomains, [new URL(fake.url).origin]);
    assert.match(content!.text, /^<!doctype html>/);

    // Hosts without Apps keep the text and links.
    const result = await call("generate_image", { prompt: "a lighthouse" });
    assert.ok(result.content.some((b) => b.type === "text" && /finished/.test(b.text ?? "")));
    assert.ok(result.content.some((b) => b.type === "resource_link"));

    // media_action acts only on the job's own media.
    const jobId = result.structuredContent!.job_id as string;
    const refused = await call("media_action", {
      action: "upscale",
      job_id: jobId,
      url: "https://example.com/elsewhere.png",
    });
    assert.equal(refused.isError, true);
    assert.match(refused.content[0]!.text!, /not one of job/);

    // Save writes to the server's disk only when its operator set --output-dir.
    const url = (result.content.find((b) => b.type === "resource_link")!).uri!;
    const save = await call("media_action", { action: "save", job_id: jobId, url });
    assert.equal(save.isError, true);
    assert.match(save.content[0]!.text!, /--output-dir/);

    // Another caller's job reads as unknown to the view's tools too.
    const unknown = await call("media_job", { job_id: "no-such-job" });
    assert.equal(unknown.isError, true);
  }));

async function hostScript(): Promise<string> {
  const built = await esbuild.build({
    entryPoints: [new URL("../ui/test_host/host.ts", import.meta.url).pathname],
    bundle: true,
    write: false,
    format: "iife",
    platform: "browser",
    logLevel: "warning",
  });
  await esbuild.stop();
  return built.outputFiles[0]!.text;
}

Deno.test({
  name:
    "MCP App view in Chromium: shows a tool result, actions call app-only tools, new job fills in",
  ignore: SKIP_BROWSER,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withToolClient(async ({ client, call }) => {
      const script = await hostScript();
      const resource = await client.readResource({ uri: URI });
      const html = (resource.contents[0] as { text: string }).text;
      const input = { prompt: "a lighthouse at dusk, mcp app test" };
      const result = await call("generate_image", input);
      assert.equal(result.structuredContent?.status, "COMPLETED");

      const chromium = await launchChromium();
      try {
        const page = await chromium.context.newPage();
        const called: string[] = [];
        await page.exposeFunction("hostCallTool", async (params: {
          name: string;
          arguments?: Record<string, unknown>;
        }) => {
          called.push(params.name);
          return await client.callTool(params);
        });
        await page.setContent(
          `<!doctype html><html><body style="margin:12px;background:#1b1b1f">` +
            `<script>${script.replaceAll("</script", "<\\/script")}</script></body></html>`,
        );
        await page.evaluate(
          ([h, i, r]) =>
            (globalThis as unknown as {
              startHost(html: string, input: unknown, result: unknown): Promise<void>;
            }).startHost(h, i, r),
          [html, input, result] as const,
        );
        const view = page.frameLocator("#view");
        const first = view.locator(`article[data-job="${result.structuredContent!.job_id}"]`);
        await first.locator("img.media").waitFor();
        await first.locator('[data-status="COMPLETED"]').waitFor();
        assert.match(
          await first.locator(".facts").innerText(),
          /fal-ai\/flux\/dev · seed \d+ · \d+×\d+/,
        );
        assert.match(await first.locator(".facts").innerText(), /\$\d/);
        assert.match(await first.locator(".prompt").innerText(), /lighthouse/);
        assert.ok(called.includes("media_job"), "the view follows the job through media_job");

        await first.locator('button[data-action="upscale"]').click();
        await view.locator("#note", { hasText: "submitted" }).waitFor();
        assert.ok(called.includes("media_action"), "Upscale calls the app-only media_action");
        const upscaled = view.locator("article").first();
        await upscaled.locator('[data-status="COMPLETED"]').waitFor({ timeout: 30_000 });
        await upscaled.locator("img.media").waitFor();
        assert.match(await upscaled.locator(".facts").innerText(), /clarity-upscaler/);
        await view.locator("article img.media").nth(1).waitFor();
        const path = TO_DOCS ? DOCS_SCREENSHOT : await Deno.makeTempFile({ suffix: ".png" });
        await page.screenshot({ path });
        assert.ok((await Deno.stat(path)).size > 10_000, "the screenshot has content");
        if (!TO_DOCS) await Deno.remove(path);
      } finally {
        await chromium.close();
      }
    }, { fake: { jobDurationMs: 1200, queueSteps: 2 } }),
});
