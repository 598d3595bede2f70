/**
 * The settings tables of docs/configuration.md, rendered from the settings table. Each table sits
 * between `<!-- settings:GROUP -->` and `<!-- /settings -->`; everything around them is prose.
 * `deno task docs` rewrites the tables; tests/docs_flags_test.ts fails when they are stale.
 *
 * @module
 */

import { type Setting, SETTING_GROUPS, type SettingGroup, settingList } from "../src/settings.ts";

/** Where the generated tables live. */
export const CONFIGURATION_DOC: URL = new URL("../docs/configuration.md", import.meta.url);

const code = (text: string) => `\`${text}\``;

function row(setting: Setting): string[] {
  const flag = setting.flag === undefined ? "" : [
    code(`--${setting.flag}${setting.arg ? ` ${setting.arg}` : ""}`),
    ...(setting.short ? [code(`-${setting.short}`)] : []),
  ].join(", ");
  const env = setting.env
    .map((name) => code(setting.type === "boolean" ? `${name}=true` : name))
    .join(", ");
  const fallback = setting.defaultDoc ??
    (setting.defaultText === undefined ? "" : code(setting.defaultText));
  return [flag, env, fallback, setting.doc];
}

/** A Markdown table laid out the way `deno fmt` lays it out. */
function table(rows: string[][]): string {
  const header = ["flag", "env", "default", "meaning"];
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => [...r[i]!].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + " ".repeat(width[i]! - [...c].length)).join(" | ")} |`;
  return [line(header), line(width.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The Markdown table of one group of settings. */
export function renderSettingsTable(group: SettingGroup): string {
  return table(settingList().filter(([, s]) => s.group === group).map(([, s]) => row(s)));
}

const BLOCK = /(<!-- settings:([a-z]+) -->\n)[\s\S]*?(\n<!-- \/settings -->)/g;

/** `text` with every settings table re-rendered; throws on an unknown group. */
export function updateSettingsTables(text: string): string {
  return text.replace(BLOCK, (_, open: string, group: string, close: string) => {
    if (!(group in SETTING_GROUPS)) throw new Error(`Unknown settings group "${group}"`);
    return `${open}\n${renderSettingsTable(group as SettingGroup)}\n${close}`;
  });
}

/** The groups whose tables `text` holds. */
export function groupsInDoc(text: string): string[] {
  return [...text.matchAll(BLOCK)].map((m) => m[2]!);
}

if (import.meta.main) {
  const before = await Deno.readTextFile(CONFIGURATION_DOC);
  const after = updateSettingsTables(before);
  if (after !== before) await Deno.writeTextFile(CONFIGURATION_DOC, after);
  console.error(
    after === before ? "docs/configuration.md is up to date" : "rewrote docs/configuration.md",
  );
}
