/**
 * Arguments a server leaves out of its tool listings because it cannot act on them: `save_to`
 * when saving is off for its callers (HTTP without `--output-dir`), `confirm_token` when no run
 * asks for a cost confirmation (`--confirm-above-usd` unset). A model is not shown what it cannot
 * use; a caller that sends them anyway gets the same answer as before.
 *
 * @module
 */

import type { ServerDeps } from "../context.ts";

/** The argument names `deps`' server does not list. */
export function unlistedArgs(deps: ServerDeps): string[] {
  const names: string[] = [];
  if (deps.settings.saveBaseDir === undefined) names.push("save_to");
  if (!deps.costs?.confirming) names.push("confirm_token");
  return names;
}
