/**
 * Mapping a task tool's friendly arguments onto a model's own input fields. Models differ
 * (`image_size` vs `aspect_ratio`, `prompt` vs `text`): each friendly argument names the fields
 * it may fill, in order of preference, and lands in the first one the chosen model has. An
 * argument the model cannot take is left out and said so in the result, never sent blindly.
 *
 * @module
 */

import type { JsonSchema } from "../fal/openapi.ts";
import { isRecord } from "../is_record.ts";

/** Builds one model input against the model's input schema. */
export class InputBuilder {
  /** The input built so far. */
  readonly input: Record<string, unknown> = {};
  /** Notes for the caller (arguments the model did not take). */
  readonly notes: string[] = [];
  readonly #properties: Record<string, unknown> | undefined;
  readonly #endpointId: string;

  /** Starts an input for `endpointId`, whose input schema is `schema` (if known). */
  constructor(schema: JsonSchema | undefined, endpointId: string) {
    this.#properties = schema && isRecord(schema.properties) ? schema.properties : undefined;
    this.#endpointId = endpointId;
  }

  /** Whether the model has this input field (true when the schema is unknown). */
  has(field: string): boolean {
    return this.#properties === undefined || field in this.#properties;
  }

  /** The schema of one input field, when known. */
  property(field: string): JsonSchema | undefined {
    const property = this.#properties?.[field];
    return isRecord(property) ? property : undefined;
  }

  /**
   * Sets `value` on the first of `fields` the model has; when none, notes that `label` was left
   * out. Undefined values are skipped. Answers the field used, if any.
   */
  set(label: string, value: unknown, ...fields: string[]): string | undefined {
    if (value === undefined) return undefined;
    const field = fields.find((f) => this.has(f));
    if (field === undefined) {
      this.notes.push(`Note: ${this.#endpointId} takes no ${label} input, so it was left out.`);
      return undefined;
    }
    this.input[field] = value;
    return field;
  }

  /** The allowed values of a field, when it is an enum. */
  allowed(field: string): unknown[] | undefined {
    const property = this.property(field);
    return Array.isArray(property?.enum) ? property.enum : undefined;
  }
}

const ASPECT_TO_IMAGE_SIZE: Record<string, string> = {
  "1:1": "square_hd",
  "4:3": "landscape_4_3",
  "16:9": "landscape_16_9",
  "3:4": "portrait_4_3",
  "9:16": "portrait_16_9",
};

/**
 * Sets the image size: `size` as a preset name (`square_hd`, `landscape_16_9`…) or `WxH`, and
 * `aspect_ratio` as `W:H`, onto whichever of `image_size` / `aspect_ratio` the model has.
 */
export function setImageSize(
  builder: InputBuilder,
  size: string | undefined,
  aspectRatio: string | undefined,
): void {
  const dims = size ? /^(\d{2,5})\s*[x×]\s*(\d{2,5})$/i.exec(size) : null;
  if (size !== undefined) {
    const value = dims ? { width: Number(dims[1]), height: Number(dims[2]) } : size;
    builder.set("size", value, "image_size");
  }
  if (aspectRatio === undefined) return;
  if (builder.property("aspect_ratio") || !builder.has("image_size")) {
    builder.set("aspect_ratio", aspectRatio, "aspect_ratio");
  } else if (size === undefined) {
    const preset = ASPECT_TO_IMAGE_SIZE[aspectRatio];
    builder.set("aspect_ratio", preset ?? aspectRatio, "image_size");
  }
}
