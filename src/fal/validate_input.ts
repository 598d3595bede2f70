/**
 * Checking a model input against the model's own JSON schema before anything is submitted (and
 * paid for): required fields, unknown fields, types, allowed values, lengths and bounds. Each
 * problem is one plain sentence naming the field: "prompt is required", "duration must be one
 * of 5, 10 (got 7)".
 *
 * @example
 * ```ts
 * import { validateModelInput } from "./validate_input.ts";
 *
 * const schema = { type: "object", required: ["prompt"], properties: { prompt: { type: "string" } } };
 * validateModelInput({}, schema); // ["prompt is required"]
 * ```
 *
 * @module
 */

import { FalMcpError, JsonRpcCode } from "../errors.ts";
import type { JsonSchema } from "./openapi.ts";
import { isRecord } from "../is_record.ts";

const ARTICLE: Record<string, string> = {
  integer: "an integer",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  array: "a list",
  object: "an object",
  null: "null",
};

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "number") return Number.isInteger(value) ? "an integer" : "a number";
  if (typeof value === "boolean") return "true or false";
  return ARTICLE[typeof value] ?? typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  if (value === null) return type === "null";
  if (type === "integer") return Number.isInteger(value);
  if (type === "number") return typeof value === "number";
  if (type === "array") return Array.isArray(value);
  if (type === "object") return isRecord(value);
  if (type === "string") return typeof value === "string";
  if (type === "boolean") return typeof value === "boolean";
  return true;
}

function shown(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Describes the forms an `anyOf` allows, e.g. `square_hd, square, or an object`. */
function forms(options: JsonSchema[]): string {
  const parts: string[] = [];
  for (const option of options) {
    if (Array.isArray(option.enum)) parts.push(...option.enum.map(shown));
    else if (option.type === "object" && isRecord(option.properties)) {
      parts.push(`an object {${Object.keys(option.properties).join(", ")}}`);
    } else if (typeof option.type === "string" && option.type !== "null") {
      parts.push(ARTICLE[option.type] ?? option.type);
    }
  }
  return parts.length > 1 ? `${parts.slice(0, -1).join(", ")} or ${parts.at(-1)}` : parts[0] ?? "";
}

/** Problems with `value` against `schema`, the field called `path` (empty when it fits). */
function check(value: unknown, schema: JsonSchema, path: string, depth: number): string[] {
  if (depth > 6) return [];
  for (const key of ["anyOf", "oneOf"] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length) {
      const objects = options.filter(isRecord);
      const fits = objects.some((o) => check(value, o, path, depth + 1).length === 0);
      if (fits) return [];
      // One alternative of the value's own kind: report its own problem (e.g. a bound).
      const sameKind = objects.filter((o) =>
        typeof o.type === "string" && matchesType(value, o.type) && !Array.isArray(o.enum)
      );
      if (sameKind.length === 1) return check(value, sameKind[0]!, path, depth + 1);
      return [`${path} must be ${forms(objects)} (got ${shown(value)})`];
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === value)) {
    return [`${path} must be one of ${schema.enum.map(shown).join(", ")} (got ${shown(value)})`];
  }
  const type = schema.type;
  if (typeof type === "string" && !(value === null && schema.nullable === true)) {
    if (!matchesType(value, type)) {
      return [`${path} must be ${ARTICLE[type] ?? type} (got ${kindOf(value)})`];
    }
  }
  const problems: string[] = [];
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) {
      problems.push(`${path} must be at least ${schema.minimum} (got ${value})`);
    }
    if (typeof schema.maximum === "number" && value > schema.maximum) {
      problems.push(`${path} must be at most ${schema.maximum} (got ${value})`);
    }
  }
  if (typeof value === "string") {
    if (typeof schema.minLength === "number" && value.length < schema.minLength) {
      problems.push(
        schema.minLength === 1
          ? `${path} must not be empty`
          : `${path} must be at least ${schema.minLength} characters`,
      );
    }
    if (typeof schema.maxLength === "number" && value.length > schema.maxLength) {
      problems.push(
        `${path} must be at most ${schema.maxLength} characters (got ${value.length})`,
      );
    }
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems) {
      problems.push(`${path} needs at least ${schema.minItems} item(s)`);
    }
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems) {
      problems.push(`${path} takes at most ${schema.maxItems} item(s) (got ${value.length})`);
    }
    if (isRecord(schema.items)) {
      value.forEach((item, i) =>
        problems.push(...check(item, schema.items as JsonSchema, `${path}[${i}]`, depth + 1))
      );
    }
  }
  if (isRecord(value) && (isRecord(schema.properties) || Array.isArray(schema.required))) {
    problems.push(...checkObject(value, schema, path, depth, false));
  }
  return problems;
}

/** Edit distance of two short strings (for "did you mean"). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

function unknownField(name: string, known: string[], path: string): string {
  const near = known.filter((k) => distance(k, name) <= Math.max(1, Math.floor(k.length / 4)));
  const hint = near.length ? `did you mean ${near.join(" or ")}?` : `it takes ${known.join(", ")}`;
  return `${path ? `${path}.` : ""}${name} is not an input of this model (${hint})`;
}

function checkObject(
  value: Record<string, unknown>,
  schema: JsonSchema,
  path: string,
  depth: number,
  unknownKeys: boolean,
): string[] {
  const problems: string[] = [];
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const join = (name: string) => path ? `${path}.${name}` : name;
  for (const name of Array.isArray(schema.required) ? schema.required : []) {
    if (typeof name === "string" && value[name] === undefined) {
      problems.push(`${join(name)} is required`);
    }
  }
  for (const [name, item] of Object.entries(value)) {
    const property = properties[name];
    if (isRecord(property)) {
      if (item !== undefined) problems.push(...check(item, property, join(name), depth + 1));
    } else if (unknownKeys && Object.keys(properties).length) {
      problems.push(unknownField(name, Object.keys(properties), path));
    }
  }
  return problems;
}

/** Options for {@linkcode validateModelInput}. */
export interface ValidateOptions {
  /** Report top-level fields the schema does not list (default false). */
  unknownKeys?: boolean;
}

/** Every problem with `input` against the model's input schema; empty when it fits. */
export function validateModelInput(
  input: Record<string, unknown>,
  schema: JsonSchema,
  options: ValidateOptions = {},
): string[] {
  return checkObject(input, schema, "", 0, options.unknownKeys ?? false);
}

/**
 * Throws an invalid-params error naming every problem with `input` for `endpointId`, and where
 * to read its schema; does nothing when the input fits (or the schema is unknown).
 */
export function assertModelInput(
  endpointId: string,
  input: Record<string, unknown>,
  schema: JsonSchema | undefined,
  options: ValidateOptions = {},
): void {
  if (!schema) return;
  const problems = validateModelInput(input, schema, options);
  if (!problems.length) return;
  throw new FalMcpError(
    `Cannot run ${endpointId}: ${problems.join("; ")}. Nothing was submitted; see ` +
      `get_model_schema {"endpoint_id": "${endpointId}"} for its inputs.`,
    { status: 400, code: JsonRpcCode.InvalidParams },
  );
}
