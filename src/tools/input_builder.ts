/**
 * Mapping a task tool's friendly arguments onto a model's own input fields. Models differ
 * (`image_size` vs `aspect_ratio`, `prompt` vs `text`): each friendly argument names the fields
 * it may fill, in order of preference, and lands in the first one the chosen model has. An
 * argument the model cannot take is left out and said so in the result, never sent blindly.
 *
 * @module
 */

import type { JsonSchema } from "../fal/openapi.ts";
import { FalMcpError, JsonRpcCode } from "../errors.ts";
import { isRecord } from "../is_record.ts";
import { fitValue, ratioOf, shown } from "./fit_value.ts";

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
   * Sets `value` on the first of `fields` the model has, fitted to that field's schema (see
   * {@linkcode fitValue}); when none, notes that `label` was left out. Undefined values are
   * skipped. Answers the field used, if any. A value the field cannot take is refused with the
   * values it does take.
   */
  set(label: string, value: unknown, ...fields: string[]): string | undefined {
    if (value === undefined) return undefined;
    const field = fields.find((f) => this.has(f));
    if (field === undefined) {
      this.notes.push(`Note: ${this.#endpointId} takes no ${label} input, so it was left out.`);
      return undefined;
    }
    const fitted = fitValue(value, this.property(field));
    if (!fitted.ok) {
      throw new FalMcpError(
        `${label} must be one of ${fitted.allowed.map(shown).join(", ")} for ` +
          `${this.#endpointId} (got ${shown(value)}).`,
        { status: 400, code: JsonRpcCode.InvalidParams },
      );
    }
    if (fitted.note) this.note(`${label} ${fitted.note}, the nearest ${this.#endpointId} takes.`);
    this.input[field] = fitted.value;
    return field;
  }

  /** Adds a note for the caller. */
  note(text: string): void {
    this.notes.push(`Note: ${text}`);
  }

  /** The endpoint this input is for. */
  get endpointId(): string {
    return this.#endpointId;
  }

  /** The allowed values of a field, when it is an enum. */
  allowed(field: string): unknown[] | undefined {
    const property = this.property(field);
    return Array.isArray(property?.enum) ? property.enum : undefined;
  }
}

/** fal's named image sizes and their pixel sizes. */
const IMAGE_SIZE_PRESETS: Readonly<Record<string, { width: number; height: number }>> = {
  square_hd: { width: 1024, height: 1024 },
  square: { width: 512, height: 512 },
  landscape_4_3: { width: 1024, height: 768 },
  landscape_16_9: { width: 1024, height: 576 },
  portrait_4_3: { width: 768, height: 1024 },
  portrait_16_9: { width: 576, height: 1024 },
};

const ASPECT_TO_IMAGE_SIZE: Readonly<Record<string, string>> = {
  "1:1": "square_hd",
  "4:3": "landscape_4_3",
  "16:9": "landscape_16_9",
  "3:4": "portrait_4_3",
  "9:16": "portrait_16_9",
};

function takesExplicitSize(schema: JsonSchema | undefined): boolean {
  const options = schema?.anyOf ?? schema?.oneOf;
  if (!Array.isArray(options)) return false;
  return options.some((o) =>
    isRecord(o) && isRecord(o.properties) && "width" in o.properties && "height" in o.properties
  );
}

/** About one megapixel at `ratio`, both sides multiples of 16. */
function sizeForRatio(ratio: number): { width: number; height: number } {
  const width = Math.round(Math.sqrt(1024 * 1024 * ratio) / 16) * 16;
  return { width, height: Math.round(width / ratio / 16) * 16 };
}

/**
 * Sets the image size: `size` as a preset name (`square_hd`, `landscape_16_9`…) or `WxH`, and
 * `aspect_ratio` as `W:H`, onto whichever of `image_size` / `aspect_ratio` the model has. A ratio
 * no preset has becomes an explicit size (when the model takes one) or the nearest preset.
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
    return;
  }
  if (size !== undefined) {
    builder.note(`aspect_ratio was left out because size ${size} was given.`);
    return;
  }
  const preset = ASPECT_TO_IMAGE_SIZE[aspectRatio];
  const ratio = ratioOf(aspectRatio);
  if (preset || ratio === undefined) {
    builder.set("aspect_ratio", preset ?? aspectRatio, "image_size");
  } else if (takesExplicitSize(builder.property("image_size"))) {
    const explicit = sizeForRatio(ratio);
    builder.set("aspect_ratio", explicit, "image_size");
    builder.note(`aspect_ratio ${aspectRatio} was sent as ${explicit.width}x${explicit.height}.`);
  } else {
    const [name] = Object.entries(IMAGE_SIZE_PRESETS).map(([n, d]) =>
      [n, Math.abs(Math.log(d.width / d.height / ratio))] as const
    ).sort((a, b) => a[1] - b[1])[0]!;
    builder.set("aspect_ratio", name, "image_size");
    builder.note(`aspect_ratio ${aspectRatio} became ${name}, the nearest size preset.`);
  }
}

/**
 * Sets the output image format; a format the model does not make becomes one it does (PNG
 * first, as it loses nothing), with a note.
 */
export function setFormat(builder: InputBuilder, format: string | undefined): void {
  if (format === undefined) return;
  const allowed = builder.allowed("output_format")?.map(String);
  if (!allowed || allowed.includes(format)) {
    builder.set("format", format, "output_format");
    return;
  }
  const chosen = ["png", "jpeg", "webp"].find((f) => allowed.includes(f)) ?? allowed[0]!;
  builder.set("format", chosen, "output_format");
  builder.note(`${builder.endpointId} makes no ${format} images, so it makes ${chosen}.`);
}
