/**
 * Headless Chromium (Debian's `chromium` package) driven by `playwright-core`, for the tests of
 * the studio and the MCP App view. Without `/usr/bin/chromium` these tests are skipped with a
 * message, except in CI (CI is set), where they must run.
 *
 * @module
 */

import { type BrowserContext, chromium } from "playwright-core";

/** Where Debian installs Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Whether browser tests are skipped here (no Chromium and not in CI); says why once. */
export const SKIP_BROWSER: boolean = (() => {
  if (exists(CHROMIUM)) return false;
  if (Deno.env.get("CI")) return false;
  console.error(
    `browser tests skipped: ${CHROMIUM} is missing (install it with ` +
      "`apt-get install -y chromium`; in CI they always run)",
  );
  return true;
})();

/** Launches headless Chromium with a fresh profile; `close` removes the profile. */
export async function launchChromium(): Promise<
  { context: BrowserContext; close(): Promise<void> }
> {
  const profile = await Deno.makeTempDir({ prefix: "fal-mcp-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    viewport: { width: 1280, height: 800 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      await Deno.remove(profile, { recursive: true }).catch(() => undefined);
    },
  };
}
