/**
 * The studio in a real browser (headless Chromium): sign in with the bearer token, run a model
 * from the form generated from its schema against the fake fal, watch the job go from the
 * queue to done live, see the picture and its cost. Saves docs/studio.png.
 */

import assert from "node:assert/strict";
import { launchChromium, SKIP_BROWSER } from "./helpers/browser.ts";
import { startTestHttpServer } from "./helpers/http_server.ts";
import { falEnv, withFakeFal } from "./helpers/scenario.ts";

const TOKEN = "studio-test-token-0123456789";
/** Runs in the page: the natural width of an image once it loaded (0 when it failed). */
const IMAGE_WIDTH = (img: unknown): number | Promise<number> => {
  const el = img as { complete: boolean; naturalWidth: number; onload: unknown; onerror: unknown };
  if (el.complete) return el.naturalWidth;
  return new Promise<number>((ok) => {
    el.onload = () => ok(el.naturalWidth);
    el.onerror = () => ok(0);
  });
};
/** Screenshots go to docs/ with UPDATE_SCREENSHOTS=1 (to refresh them), else to a temp file. */
const TO_DOCS = Deno.env.get("UPDATE_SCREENSHOTS") === "1";
const DOCS_SCREENSHOT = new URL("../docs/studio.png", import.meta.url).pathname;

Deno.test({
  name:
    "studio: sign in, run from the schema form, watch it live, see picture and cost; compare; connect",
  ignore: SKIP_BROWSER,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withFakeFal(async (fake) => {
      const server = await startTestHttpServer({
        env: { ...falEnv(fake), FAL_MCP_AUTH_TOKENS: TOKEN },
      });
      const chromium = await launchChromium();
      try {
        const page = await chromium.context.newPage();
        await page.goto(`${server.url}/studio`);
        // Auth is on: the API answers 401 and the page asks for the token.
        await page.locator("#login input").fill(TOKEN);
        await page.locator("#login button").click();
        await page.locator(".empty").waitFor();

        await page.locator("nav [data-tab=run]").click();
        const prompt = page.locator('#fields textarea[name="prompt"]');
        await prompt.waitFor();
        await prompt.fill("a red fox in the snow, studio test");
        await page.locator("#estimate", { hasText: "$" }).waitFor();
        await page.locator("#run").click();

        // Back in the gallery, the card shows the job while it runs, then its picture.
        const card = page.locator(".card").first();
        await card.locator('[data-status="IN_QUEUE"], [data-status="IN_PROGRESS"]').waitFor();
        await card.locator('[data-status="COMPLETED"]').waitFor({ timeout: 30_000 });
        const image = card.locator("img.media");
        await image.waitFor();
        const width = await image.evaluate(IMAGE_WIDTH);
        assert.ok(width > 0, "the generated picture loads from the fake fal's CDN");
        assert.match(await card.locator(".facts").innerText(), /\$\d/);
        assert.match(await card.locator(".prompt").innerText(), /red fox/);

        await card.click();
        await page.locator("#detail .cost", { hasText: "$" }).waitFor();
        assert.match(await page.locator("#detail pre").first().innerText(), /red fox/);

        // Compare: one prompt across two models side by side, each with its cost and time.
        await page.locator("nav [data-tab=compare]").click();
        await page.locator("#compare-models").fill("fal-ai/flux/dev, fal-ai/flux/schnell");
        await page.locator("#compare").click();
        const columns = page.locator(".column");
        for (const i of [0, 1]) {
          await columns.nth(i).locator('[data-status="COMPLETED"]').waitFor({ timeout: 30_000 });
          await columns.nth(i).locator("img.media").waitFor();
          assert.match(await columns.nth(i).locator(".facts").innerText(), /cost \$\d.* time \d/);
        }
        assert.deepEqual(await columns.locator("h3").allInnerTexts(), [
          "fal-ai/flux/dev",
          "fal-ai/flux/schnell",
        ]);

        // Connect: the configurations point at this server.
        await page.locator("nav [data-tab=connect]").click();
        const configs = await page.locator(".connect pre").allInnerTexts();
        assert.equal(configs.length, 4);
        for (const config of configs) assert.ok(config.includes(`${server.url}/mcp`));
        assert.ok(configs.every((c) => c.includes("YOUR_TOKEN")), "auth is on: a token slot");

        await page.locator("nav [data-tab=spend]").click();
        await page.locator("#spend-total", { hasText: "$" }).waitFor();
        await page.locator("nav [data-tab=gallery]").click();
        await page.locator(".card img.media").first().waitFor();
        await page.locator(".card").first().click();
        await page.locator("#detail .cost", { hasText: "$" }).waitFor();
        const path = TO_DOCS ? DOCS_SCREENSHOT : await Deno.makeTempFile({ suffix: ".png" });
        await page.screenshot({ path });
        assert.ok((await Deno.stat(path)).size > 10_000, "the screenshot has content");
        if (!TO_DOCS) await Deno.remove(path);
      } finally {
        await chromium.close();
        await server.close();
      }
    }, { jobDurationMs: 1500, queueSteps: 2 }),
});
