/**
 * Tool argument and result schemas as the MCP SDK consumes them (Standard Schema), with two
 * changes to a plain zod object: argument errors read like a person wrote them ("prompt is
 * required", "count must be at most 8 (got 9)") instead of zod's internal wording, and the JSON
 * Schema advertised in `tools/list` is computed once per process, compactly (no `$schema` line
 * on every tool).
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { toolSchema } from "./tool_schema.ts";
 *
 * const input = toolSchema(z.object({ prompt: z.string() }));
 * const result = await input["~standard"].validate({});
 * // result.issues[0].message === "prompt is required"
 * ```
 *
 * @module
 */

import { z } from "zod";

/** One issue as zod reports it (the fields this module reads). */
interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  input?: unknown;
  expected?: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  inclusive?: boolean;
  values?: unknown[];
  format?: string;
  pattern?: string;
  keys?: string[];
  divisor?: number;
}

const ARTICLE: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  integer: "an integer",
  boolean: "true or false",
  object: "an object",
  record: "an object",
  array: "a list",
  null: "null",
};

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a number";
  return ARTICLE[typeof value] ?? typeof value;
}

function shown(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function pathOf(path: PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    out += typeof key === "number" ? `[${key}]` : `${out ? "." : ""}${String(key)}`;
  }
  return out || "arguments";
}

function got(issue: ZodIssueLike): string {
  return issue.input === undefined ? "" : ` (got ${shown(issue.input)})`;
}

/** One issue as a plain sentence naming the argument. */
export function describeIssue(issue: ZodIssueLike): string {
  const name = pathOf(issue.path);
  const origin = issue.origin ?? "";
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return `${name} is required`;
      return `${name} must be ${ARTICLE[issue.expected ?? ""] ?? issue.expected} (got ${
        kindOf(issue.input)
      })`;
    case "too_small": {
      const min = Number(issue.minimum);
      if (origin === "string") {
        return min <= 1
          ? `${name} must not be empty`
          : `${name} must be at least ${min} characters`;
      }
      if (origin === "array" || origin === "set") return `${name} needs at least ${min} item(s)`;
      return `${name} must be ${issue.inclusive === false ? "more than" : "at least"} ${min}${
        got(issue)
      }`;
    }
    case "too_big": {
      const max = Number(issue.maximum);
      if (origin === "string") return `${name} must be at most ${max} characters`;
      if (origin === "array" || origin === "set") return `${name} takes at most ${max} item(s)`;
      return `${name} must be ${issue.inclusive === false ? "less than" : "at most"} ${max}${
        got(issue)
      }`;
    }
    case "invalid_value":
      return `${name} must be one of ${(issue.values ?? []).map(shown).join(", ")}${got(issue)}`;
    case "invalid_format":
      return issue.format === "regex"
        ? `${name} is not in the expected form${got(issue)}`
        : `${name} must be a valid ${issue.format}${got(issue)}`;
    case "not_multiple_of":
      return `${name} must be a multiple of ${issue.divisor}${got(issue)}`;
    case "unrecognized_keys":
      return `${name} has unknown field(s): ${(issue.keys ?? []).join(", ")}`;
    case "invalid_union":
      return `${name} is not in a form this tool takes${got(issue)}`;
    default:
      return `${name}: ${issue.message}`;
  }
}

/** Every issue of a failed parse, as one sentence. */
export function describeIssues(issues: readonly ZodIssueLike[]): string {
  return issues.map(describeIssue).join("; ");
}

type JsonObject = Record<string, unknown>;

/**
 * A JSON Schema as advertised: without its `$schema` line, and without what tells a model
 * nothing it needs (safe-integer bounds, JSON's string keys, the generous length caps that only
 * guard the server: those are still enforced, with a clear error).
 */
function compact(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(compact);
  if (!schema || typeof schema !== "object") return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "$schema" || key === "propertyNames") continue;
    if (key === "maximum" && value === Number.MAX_SAFE_INTEGER) continue;
    if (key === "minimum" && value === Number.MIN_SAFE_INTEGER) continue;
    if (key === "maxLength" && typeof value === "number" && value >= 200) continue;
    if (key === "minLength" && typeof value === "number" && value <= 3) continue;
    // An enum names its values; their type adds nothing.
    if (key === "type" && Array.isArray((schema as JsonObject).enum)) continue;
    out[key] = compact(value);
  }
  return out;
}

/** `schema` without the named top-level properties (and without them in `required`). */
function withoutProperties(schema: JsonObject, names: readonly string[]): JsonObject {
  if (names.length === 0) return schema;
  const properties = { ...(schema.properties as JsonObject | undefined) };
  for (const name of names) delete properties[name];
  const required = (schema.required as string[] | undefined)?.filter((n) => !names.includes(n));
  return { ...schema, properties, ...(required ? { required } : {}) };
}

const prepared = new WeakSet<z.ZodType>();
const variants = new WeakMap<z.ZodType, Map<string, z.ZodType>>();

/**
 * {@linkcode toolSchema} of `schema` as listed to one server: arguments that server cannot act on
 * (`save_to` where nothing may be saved, `confirm_token` where no run asks for a confirmation)
 * are left out of the listing, which keeps it lean. They are still accepted when sent (and
 * answered as before), since the arguments are checked against the whole schema. One variant per
 * set of names, made once.
 */
export function listedToolSchema<T extends z.ZodObject<z.ZodRawShape>>(
  schema: T,
  unlisted: readonly string[],
): T {
  const names = unlisted.filter((name) => name in schema.shape);
  if (names.length === 0) return toolSchema(schema);
  const key = names.join(",");
  let byNames = variants.get(schema);
  if (!byNames) variants.set(schema, byNames = new Map());
  let variant = byNames.get(key) as T | undefined;
  if (!variant) {
    variant = toolSchema(schema.clone() as T, names);
    byNames.set(key, variant);
  }
  return variant;
}

/**
 * `schema` with human argument errors and a JSON Schema computed once (the same object is
 * returned, so it stays a zod schema for everything else). Calling it again on the same schema
 * changes nothing.
 */
export function toolSchema<T extends z.ZodType>(schema: T, unlisted: readonly string[] = []): T {
  if (prepared.has(schema)) return schema;
  prepared.add(schema);
  const converted: Partial<Record<"input" | "output", JsonObject>> = {};
  // Both directions are advertised in the input form: objects open to more fields than they
  // list (zod's output form closes every object, which a result that grows a field would break).
  const jsonSchema = (io: "input" | "output") => () =>
    converted[io] ??= withoutProperties(
      compact(z.toJSONSchema(schema, { target: "draft-2020-12", io: "input" })) as JsonObject,
      unlisted,
    );
  Object.defineProperty(schema, "~standard", {
    configurable: true,
    enumerable: false,
    value: {
      version: 1,
      vendor: "zod",
      validate(value: unknown) {
        const parsed = schema.safeParse(value, { reportInput: true });
        if (parsed.success) return { value: parsed.data };
        return {
          issues: parsed.error.issues.map((issue) => ({
            message: describeIssue(issue as unknown as ZodIssueLike),
          })),
        };
      },
      jsonSchema: { input: jsonSchema("input"), output: jsonSchema("output") },
    },
  });
  return schema;
}
