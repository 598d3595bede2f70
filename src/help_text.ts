/**
 * The `--help` text, derived from the settings table: each flag (or environment-only setting)
 * with its description, default and environment variables, grouped as docs/configuration.md is.
 *
 * @module
 */

import { type Setting, SETTING_GROUPS, type SettingGroup, settingList } from "./settings.ts";

const INDENT = 28;
const LINE_WIDTH = 100;
const NBSP = "\u00a0";

/** The left column of a setting: `--port N`, `--help, -h`, or the variable it is read from. */
function nameColumn(setting: Setting): string {
  if (setting.flag === undefined) return setting.env.join(", ");
  const flag = `--${setting.flag}${setting.arg ? ` ${setting.arg}` : ""}`;
  return setting.short ? `${flag}, -${setting.short}` : flag;
}

/** Words of `text` filled into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** One setting's lines: name, then description, default and variables, wrapped. */
function settingLines(setting: Setting): string[] {
  const name = nameColumn(setting);
  const parts = [setting.help];
  if (setting.defaultText !== undefined) parts.push(`(default: ${setting.defaultText})`);
  if (setting.flag !== undefined && setting.env.length > 0) {
    const env = setting.type === "boolean" ? setting.env.map((e) => `${e}=true`) : setting.env;
    // One unbreakable word, so the variables never split across lines.
    parts.push(`[env ${env.join(", ")}]`.replaceAll(" ", NBSP));
  }
  const body = wrap(parts.join(" "), LINE_WIDTH - INDENT).map((l) => l.replaceAll(NBSP, " "));
  const pad = " ".repeat(INDENT);
  const head = `  ${name}`;
  const lines = head.length < INDENT ? [`${head.padEnd(INDENT)}${body.shift() ?? ""}`] : [head];
  return [...lines, ...body.map((line) => pad + line)];
}

/** Renders the `--help` text from the settings table. */
export function renderHelp(): string {
  const groups = new Map<SettingGroup, string[]>();
  for (const [, setting] of settingList()) {
    const lines = groups.get(setting.group) ?? [];
    lines.push(...settingLines(setting));
    groups.set(setting.group, lines);
  }
  const sections = (Object.keys(SETTING_GROUPS) as SettingGroup[])
    .filter((group) => groups.has(group))
    .map((group) => `${SETTING_GROUPS[group]}:\n${groups.get(group)!.join("\n")}`);
  return [
    "fal-mcp: an MCP server for the whole fal.ai model catalogue",
    "",
    "Usage: fal-mcp [options]",
    "",
    "Each setting is a flag or an environment variable; the flag wins. More: docs/configuration.md",
    "",
    sections.join("\n\n"),
    "",
  ].join("\n");
}

/** The `--help` text: every flag and environment variable. */
export const HELP_TEXT: string = renderHelp();
