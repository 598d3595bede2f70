/**
 * Fitting one friendly value to one model input field, by the field's own schema: a value the
 * field takes goes as is; a number or an aspect ratio the field does not offer becomes the
 * nearest one it does (with a note saying so); a number outside the field's bounds is brought
 * inside; anything else is refused with the values the field takes, before anything is paid for.
 *
 * @module
 */

import type { JsonSchema } from "../fal/openapi.ts";

/** The outcome of {@linkcode fitValue}. */
export type Fitted =
  | { ok: true; value: unknown; note?: string }
  | { ok: false; allowed: unknown[] };

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === "object" && !Array.isArray(value);
}

/** `W:H` as a number (width over height), or undefined. */
export function ratioOf(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(value.trim());
  if (!match) return undefined;
  const ratio = Number(match[1]) / Number(match[2]);
  return Number.isFinite(ratio) && ratio > 0 ? ratio : undefined;
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return undefined;
}

/** Whether `value` is of the JSON type `type` (integers count as numbers). */
function hasType(value: unknown, type: unknown): boolean {
  if (typeof type !== "string") return true;
  switch (type) {
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "array":
      return Array.isArray(value);
    case "object":
      return isObject(value);
    case "null":
      return value === null;
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    default:
      return true;
  }
}

/** Whether `value` already fits `schema` as far as fitting looks (enum, type, bounds). */
function fitsAsIs(value: unknown, schema: JsonSchema): boolean {
  const options = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(options) && options.length) {
    return options.filter(isObject).some((o) => fitsAsIs(value, o));
  }
  if (Array.isArray(schema.enum)) return schema.enum.some((e) => e === value);
  if (!hasType(value, schema.type)) return false;
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) return false;
    if (typeof schema.maximum === "number" && value > schema.maximum) return false;
  }
  return true;
}

/** The shown form of a value in a note or a refusal. */
export function shown(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function nearestBy<T>(items: T[], distance: (item: T) => number): T | undefined {
  let best: T | undefined;
  let bestDistance = Infinity;
  for (const item of items) {
    const d = distance(item);
    if (d < bestDistance) {
      best = item;
      bestDistance = d;
    }
  }
  return best;
}

function fitEnum(value: unknown, allowed: unknown[]): Fitted {
  // The same value in another JSON type ("5" for 5, "EN" for "en") goes silently.
  const twin = allowed.find((a) =>
    String(a) === String(value) ||
    (typeof a === "string" && typeof value === "string" && a.toLowerCase() === value.toLowerCase())
  );
  if (twin !== undefined) return { ok: true, value: twin };
  const ratio = ratioOf(value);
  const ratios = allowed.filter((a) => ratioOf(a) !== undefined);
  if (ratio !== undefined && ratios.length) {
    const nearest = nearestBy(ratios, (a) => Math.abs(Math.log(ratioOf(a)! / ratio)));
    return { ok: true, value: nearest, note: `${shown(value)} became ${shown(nearest)}` };
  }
  const number = numberOf(value);
  const numbers = allowed.filter((a) => numberOf(a) !== undefined);
  if (number !== undefined && numbers.length) {
    const nearest = nearestBy(numbers, (a) => Math.abs(numberOf(a)! - number));
    return { ok: true, value: nearest, note: `${shown(value)} became ${shown(nearest)}` };
  }
  return { ok: false, allowed };
}

function fitScalar(value: unknown, schema: JsonSchema): Fitted {
  let out = value;
  const notes: string[] = [];
  const number = numberOf(value);
  if (schema.type === "string" && typeof value === "number") out = String(value);
  if ((schema.type === "number" || schema.type === "integer") && number !== undefined) {
    out = number;
    if (typeof schema.minimum === "number" && number < schema.minimum) out = schema.minimum;
    if (typeof schema.maximum === "number" && number > schema.maximum) out = schema.maximum;
    if (schema.type === "integer" && !Number.isInteger(out)) out = Math.round(out as number);
    if (out !== number) notes.push(`${shown(value)} became ${shown(out)}`);
  }
  return notes.length ? { ok: true, value: out, note: notes.join("; ") } : { ok: true, value: out };
}

/** Every enum value a schema (or one of its alternatives) lists. */
export function enumValues(schema: JsonSchema): unknown[] {
  const options = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(options)) return options.filter(isObject).flatMap(enumValues);
  return Array.isArray(schema.enum) ? schema.enum : [];
}

/** Fits `value` to a field whose schema is `schema`. */
export function fitValue(value: unknown, schema: JsonSchema | undefined): Fitted {
  if (!schema || fitsAsIs(value, schema)) return { ok: true, value };
  const options = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(options) && options.length) {
    // Fit into the first alternative that can take a value of this kind.
    for (const option of options.filter(isObject)) {
      if (option.type === "null") continue;
      const fitted = fitValue(value, option);
      if (fitted.ok && fitsAsIs(fitted.value, option)) return fitted;
    }
    const allowed = enumValues(schema);
    return allowed.length ? { ok: false, allowed } : { ok: true, value };
  }
  if (Array.isArray(schema.enum)) return fitEnum(value, schema.enum);
  return fitScalar(value, schema);
}
