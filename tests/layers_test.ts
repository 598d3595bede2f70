/**
 * Imports only run down the layers: the checks below read every module under src/ (its import and
 * export statements, dynamic imports and the imports of its documentation examples) and fail on
 * an import that runs up.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A folder (under src/) whose modules may not import from other folders. */
interface Rule {
  from: string;
  notFrom: string;
  why: string;
}

const RULES: Rule[] = [
  {
    from: "src/transports/",
    notFrom: "src/http/",
    why: "transports sit below the HTTP app; share code through src/protocol/ or src/principal.ts",
  },
  {
    from: "src/files/",
    notFrom: "src/tools/",
    why: "files/ serves the tools; what both need belongs in files/",
  },
  {
    from: "src/protocol/",
    notFrom: "src/http/",
    why: "protocol/ is shared by the transports and the HTTP app",
  },
  {
    from: "src/protocol/",
    notFrom: "src/transports/",
    why: "protocol/ is shared by the transports and the HTTP app",
  },
];

const SPECIFIER = [
  /\b(?:import|export)\s+(?:type\s+)?[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
  /\bimport\s*["']([^"']+)["']/g,
  /\bimport\(\s*["']([^"']+)["']\s*\)/g,
];

/** The relative specifiers a module's source imports (repo-relative paths, `/` separated). */
function importsOf(path: string, source: string): string[] {
  const found: string[] = [];
  for (const pattern of SPECIFIER) {
    for (const match of source.matchAll(pattern)) {
      const specifier = match[1]!;
      if (!specifier.startsWith(".")) continue;
      found.push(normalize(join(dirname(path), specifier)).replaceAll("\\", "/"));
    }
  }
  return found;
}

/** Every import in `modules` (path → source) that breaks a rule, as "a imports b (why)". */
function violations(modules: Map<string, string>, rules: Rule[] = RULES): string[] {
  const broken: string[] = [];
  for (const [path, source] of modules) {
    for (const target of importsOf(path, source)) {
      for (const rule of rules) {
        if (path.startsWith(rule.from) && target.startsWith(rule.notFrom)) {
          broken.push(`${path} imports ${target} (${rule.why})`);
        }
      }
    }
  }
  return broken;
}

async function sourcesUnder(folder: string): Promise<Map<string, string>> {
  const modules = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(dir)) {
      const full = join(dir, entry.name);
      if (entry.isDirectory) await walk(full);
      else if (entry.name.endsWith(".ts") || entry.name.endsWith(".tsx")) {
        modules.set(relative(ROOT, full).replaceAll("\\", "/"), await Deno.readTextFile(full));
      }
    }
  };
  await walk(join(ROOT, folder));
  return modules;
}

Deno.test("the layer check finds an upward import in code, in re-exports, dynamic imports and doc examples", () => {
  const modules = new Map([
    ["src/transports/a.ts", 'import { x } from "../http/app.ts";\n'],
    ["src/transports/b.ts", 'export type { Y } from "../http/y.ts";\n'],
    ["src/transports/c.ts", 'const m = await import("../http/z.ts");\n'],
    ["src/files/d.ts", ' * import type { MediaFile } from "../tools/media_content.ts";\n'],
    ["src/files/e.ts", 'import {\n  a,\n  b,\n} from "../tools/deep/f.ts";\n'],
    ["src/transports/ok.ts", 'import { y } from "../protocol/jsonrpc_error.ts";\n'],
    ["src/http/ok.ts", 'import { z } from "../transports/sse.ts";\n'],
  ]);
  const found = violations(modules);
  assert.deepEqual(found.map((v) => v.split(" imports ")[0]), [
    "src/transports/a.ts",
    "src/transports/b.ts",
    "src/transports/c.ts",
    "src/files/d.ts",
    "src/files/e.ts",
  ]);
  assert.match(found[4]!, /imports src\/tools\/deep\/f\.ts/);
});

Deno.test("transports never import from http/, files/ never from tools/, protocol/ from neither", async () => {
  const modules = await sourcesUnder("src");
  assert.ok(modules.size > 100, `read ${modules.size} modules under src/`);
  assert.ok(modules.has("src/transports/sse.ts") && modules.has("src/files/save_output.ts"));
  assert.deepEqual(violations(modules), []);
});
