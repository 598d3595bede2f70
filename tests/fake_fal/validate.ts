/**
 * Input validation against a model's OpenAPI input schema, reporting errors the way fal's
 * FastAPI/pydantic apps do (`{"loc":["body","prompt"],"msg":"field required","type":"value_error.missing"}`).
 *
 * @module
 */

import type { JsonSchema } from "./catalogue.ts";

/** One validation error, in pydantic's shape. */
export interface ValidationIssue {
  /** Location of the error, starting with `"body"`. */
  loc: (string | number)[];
  /** Human-readable message. */
  msg: string;
  /** Machine-readable error type, e.g. `value_error.missing`. */
  type: string;
  /** Structured context (limits, permitted values). */
  ctx?: Record<string, unknown>;
}

const REF_PREFIX = "#/components/schemas/";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function quote(value: string | number): string {
  return typeof value === "string" ? `'${value}'` : String(value);
}

/**
 * Validates `value` against `schema`, resolving `$ref`s in `schemas`. Returns every problem
 * found; an empty list means valid. Properties the schema does not list are ignored, as
 * pydantic does by default.
 */
export function validateValue(
  value: unknown,
  schema: JsonSchema,
  schemas: Readonly<Record<string, JsonSchema>>,
  loc: (string | number)[] = ["body"],
): ValidationIssue[] {
  if (schema.$ref) {
    const target = schemas[schema.$ref.replace(REF_PREFIX, "")];
    if (!target) throw new Error(`Cannot validate: unknown schema reference ${schema.$ref}`);
    return validateValue(value, target, schemas, loc);
  }
  if (value === null) {
    if (schema.nullable) return [];
    if (schema.anyOf?.some((member) => member.nullable)) return [];
    return [{ loc, msg: "none is not an allowed value", type: "type_error.none.not_allowed" }];
  }
  if (schema.allOf) {
    const issues = schema.allOf.flatMap((member) => validateValue(value, member, schemas, loc));
    if (issues.length > 0) return issues;
  }
  if (schema.anyOf) {
    const attempts = schema.anyOf.map((member) => validateValue(value, member, schemas, loc));
    if (attempts.some((issues) => issues.length === 0)) return [];
    return attempts.flat();
  }
  const typeIssue = checkType(value, schema, loc);
  if (typeIssue) return [typeIssue];
  if (schema.enum && !schema.enum.includes(value as string | number)) {
    return [{
      loc,
      msg: `unexpected value; permitted: ${schema.enum.map(quote).join(", ")}`,
      type: "value_error.const",
      ctx: { given: value, permitted: [...schema.enum] },
    }];
  }
  const issues: ValidationIssue[] = [];
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) {
      issues.push({
        loc,
        msg: `ensure this value is greater than or equal to ${schema.minimum}`,
        type: "value_error.number.not_ge",
        ctx: { limit_value: schema.minimum },
      });
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      issues.push({
        loc,
        msg: `ensure this value is less than or equal to ${schema.maximum}`,
        type: "value_error.number.not_le",
        ctx: { limit_value: schema.maximum },
      });
    }
  }
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      issues.push({
        loc,
        msg: `ensure this value has at least ${schema.minLength} characters`,
        type: "value_error.any_str.min_length",
        ctx: { limit_value: schema.minLength },
      });
    }
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      issues.push({
        loc,
        msg: `ensure this value has at most ${schema.maxLength} characters`,
        type: "value_error.any_str.max_length",
        ctx: { limit_value: schema.maxLength },
      });
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      issues.push({
        loc,
        msg: `ensure this value has at least ${schema.minItems} items`,
        type: "value_error.list.min_items",
        ctx: { limit_value: schema.minItems },
      });
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      issues.push({
        loc,
        msg: `ensure this value has at most ${schema.maxItems} items`,
        type: "value_error.list.max_items",
        ctx: { limit_value: schema.maxItems },
      });
    }
    if (schema.items) {
      const items = schema.items;
      value.forEach((item, i) => issues.push(...validateValue(item, items, schemas, [...loc, i])));
    }
  }
  if (isPlainObject(value) && schema.properties) {
    for (const name of schema.required ?? []) {
      if (!(name in value)) {
        issues.push({ loc: [...loc, name], msg: "field required", type: "value_error.missing" });
      }
    }
    for (const [name, property] of Object.entries(schema.properties)) {
      if (name in value) {
        issues.push(...validateValue(value[name], property, schemas, [...loc, name]));
      }
    }
  }
  return issues;
}

function checkType(value: unknown, schema: JsonSchema, loc: (string | number)[]) {
  switch (schema.type) {
    case "string":
      return typeof value === "string"
        ? undefined
        : { loc, msg: "str type expected", type: "type_error.str" };
    case "integer":
      return Number.isInteger(value)
        ? undefined
        : { loc, msg: "value is not a valid integer", type: "type_error.integer" };
    case "number":
      return typeof value === "number" && Number.isFinite(value)
        ? undefined
        : { loc, msg: "value is not a valid float", type: "type_error.float" };
    case "boolean":
      return typeof value === "boolean"
        ? undefined
        : { loc, msg: "value could not be parsed to a boolean", type: "type_error.bool" };
    case "array":
      return Array.isArray(value)
        ? undefined
        : { loc, msg: "value is not a valid list", type: "type_error.list" };
    case "object":
      return isPlainObject(value)
        ? undefined
        : { loc, msg: "value is not a valid dict", type: "type_error.dict" };
    default:
      return undefined;
  }
}
