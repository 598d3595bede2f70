/**
 * Checking a model input against the model's own JSON schema before anything is submitted (and
 * paid for): required fields, types, allowed values and bounds, each problem named by field.
 *
 * @module
 */

import type { JsonSchema } from "./openapi.ts";
import { isRecord } from "../is_record.ts";

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function matchesType(value: unknown, type: string): boolean {
  const actual = typeName(value);
  if (type === "number") return actual === "number" || actual === "integer";
  return actual === type;
}

/** Problems with `value` against `schema` at `path` (empty when it fits). */
function check(value: unknown, schema: JsonSchema, path: string, depth: number): string[] {
  if (depth > 6) return [];
  for (const key of ["anyOf", "oneOf"] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length) {
      const fits = options.filter(isRecord).some((o) =>
        check(value, o, path, depth + 1).length === 0
      );
      return fits ? [] : [`${path}: ${JSON.stringify(value)} matches none of the allowed forms`];
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === value)) {
    return [`${path}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`];
  }
  const type = schema.type;
  if (typeof type === "string" && !(value === null && schema.nullable === true)) {
    if (!matchesType(value, type)) return [`${path}: expected ${type}, got ${typeName(value)}`];
  }
  const problems: string[] = [];
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) {
      problems.push(`${path}: must be at least ${schema.minimum}`);
    }
    if (typeof schema.maximum === "number" && value > schema.maximum) {
      problems.push(`${path}: must be at most ${schema.maximum}`);
    }
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems) {
      problems.push(`${path}: needs at least ${schema.minItems} item(s)`);
    }
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems) {
      problems.push(`${path}: takes at most ${schema.maxItems} item(s)`);
    }
    if (isRecord(schema.items)) {
      value.forEach((item, i) =>
        problems.push(...check(item, schema.items as JsonSchema, `${path}[${i}]`, depth + 1))
      );
    }
  }
  if (isRecord(value) && (isRecord(schema.properties) || Array.isArray(schema.required))) {
    problems.push(...checkObject(value, schema, path, depth));
  }
  return problems;
}

function checkObject(
  value: Record<string, unknown>,
  schema: JsonSchema,
  path: string,
  depth: number,
): string[] {
  const problems: string[] = [];
  const properties = isRecord(schema.properties) ? schema.properties : {};
  for (const name of Array.isArray(schema.required) ? schema.required : []) {
    if (typeof name === "string" && value[name] === undefined) {
      problems.push(`${path ? `${path}.` : ""}${name}: required`);
    }
  }
  for (const [name, item] of Object.entries(value)) {
    const property = properties[name];
    if (isRecord(property) && item !== undefined) {
      problems.push(...check(item, property, path ? `${path}.${name}` : name, depth + 1));
    }
  }
  return problems;
}

/** Every problem with `input` against the model's input schema; empty when it fits. */
export function validateModelInput(input: Record<string, unknown>, schema: JsonSchema): string[] {
  return checkObject(input, schema, "", 0);
}
