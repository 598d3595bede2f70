/**
 * Reading a model's input and output schemas out of the OpenAPI document fal publishes for it,
 * and describing them in a few lines an LLM can follow.
 *
 * @module
 */

import { isRecord } from "../is_record.ts";

/** A JSON Schema object (loosely typed: fal's documents are plain JSON). */
export type JsonSchema = Record<string, unknown>;

/** A model's schemas, with every `$ref` resolved. */
export interface ModelSchemas {
  /** The input (request body) schema. */
  input: JsonSchema | undefined;
  /** The output (result) schema. */
  output: JsonSchema | undefined;
}

const MAX_DEPTH = 8;

function lookupRef(doc: JsonSchema, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (!isRecord(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Resolves local `$ref`s (cycles and deep nesting are cut off, not followed). */
export function resolveRefs(
  doc: JsonSchema,
  node: unknown,
  depth = 0,
  seen: string[] = [],
): unknown {
  if (Array.isArray(node)) return node.map((item) => resolveRefs(doc, item, depth, seen));
  if (!isRecord(node)) return node;
  if (typeof node.$ref === "string") {
    const ref = node.$ref;
    if (seen.includes(ref) || depth >= MAX_DEPTH) return { $ref: ref };
    const target = lookupRef(doc, ref);
    if (!isRecord(target)) return { $ref: ref };
    const { $ref: _, ...siblings } = node;
    return resolveRefs(doc, { ...target, ...siblings }, depth + 1, [...seen, ref]);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = resolveRefs(doc, value, depth, seen);
  return out;
}

function jsonBodySchema(container: unknown): unknown {
  if (!isRecord(container)) return undefined;
  const content = container.content;
  if (!isRecord(content)) return undefined;
  const json = content["application/json"];
  return isRecord(json) ? json.schema : undefined;
}

/** Finds the input and output schemas in a fal OpenAPI document. */
export function extractModelSchemas(doc: JsonSchema): ModelSchemas {
  let input: unknown;
  let output: unknown;
  const paths = isRecord(doc.paths) ? doc.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!isRecord(item)) continue;
    const post = item.post;
    if (!input && isRecord(post) && !path.includes("{request_id}")) {
      input = jsonBodySchema(post.requestBody);
    }
    const get = item.get;
    if (!output && isRecord(get) && /\/requests\/\{request_id\}$/.test(path)) {
      const responses = isRecord(get.responses) ? get.responses : {};
      output = jsonBodySchema(responses["200"]);
    }
  }
  const schemas = isRecord(doc.components) && isRecord(doc.components.schemas)
    ? doc.components.schemas
    : {};
  // Fallback: fal names its components `<Model>Input` / `<Model>Output`.
  for (const [name, schema] of Object.entries(schemas)) {
    if (!input && name.endsWith("Input")) input = schema;
    if (!output && name.endsWith("Output")) output = schema;
  }
  return {
    input: isRecord(input) ? resolveRefs(doc, input) as JsonSchema : undefined,
    output: isRecord(output) ? resolveRefs(doc, output) as JsonSchema : undefined,
  };
}

function typeOf(schema: JsonSchema): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  for (const key of ["anyOf", "oneOf"] as const) {
    const options = schema[key];
    if (Array.isArray(options)) {
      return options.filter(isRecord).map((o) => typeOf(o)).filter((t) => t !== "null").join(" | ");
    }
  }
  if (schema.type === "array" && isRecord(schema.items)) return `array of ${typeOf(schema.items)}`;
  if (typeof schema.type === "string") {
    return schema.type === "object" && typeof schema.title === "string"
      ? schema.title
      : schema.type;
  }
  if (typeof schema.title === "string") return schema.title;
  return "any";
}

/** Describes an object schema's fields as lines: name, type, required, default, description. */
export function describeFields(schema: JsonSchema | undefined, indent = ""): string[] {
  if (!schema || !isRecord(schema.properties)) return [`${indent}(no fields described)`];
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const lines: string[] = [];
  for (const [name, raw] of Object.entries(schema.properties)) {
    if (!isRecord(raw)) continue;
    const facts = [typeOf(raw)];
    if (required.has(name)) facts.push("required");
    if (raw.default !== undefined) facts.push(`default ${JSON.stringify(raw.default)}`);
    if (typeof raw.minimum === "number") facts.push(`min ${raw.minimum}`);
    if (typeof raw.maximum === "number") facts.push(`max ${raw.maximum}`);
    const description = typeof raw.description === "string"
      ? `: ${raw.description.replace(/\s+/g, " ").slice(0, 240)}`
      : "";
    lines.push(`${indent}- ${name} (${facts.join(", ")})${description}`);
  }
  return lines;
}
