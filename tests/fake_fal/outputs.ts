/**
 * Model outputs of the fake, per generator kind, in the shapes fal's models return (images,
 * video, audio, transcription). Media bytes are real and stored in the fake's file store; with a
 * given `seed` the same input always renders the same bytes.
 *
 * @module
 */

import {
  type CatalogueModel,
  IMAGE_SIZES,
  type JsonSchema,
  MAX_IMAGE_SIDE,
  schemasOf,
} from "./catalogue.ts";
import type { FileStore } from "./files.ts";
import { modelError, type Outcome } from "./failures.ts";
import { isObject } from "./http.ts";
import {
  type ImageDimensions,
  readImageDimensions,
  renderJpeg,
  renderMp4,
  renderPng,
  renderWav,
  seededRandom,
} from "./media.ts";

/** What a generator needs besides the input. */
export interface OutputContext {
  /** Request id; generated file names start with it. */
  requestId: string;
  /** Where generated media is stored. */
  files: FileStore;
  /** Seconds the inference took, reported in `timings`. */
  inferenceSeconds: number;
}

/** FNV-1a hash of a string, for seeding. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function mix(...parts: number[]): number {
  let hash = 0x9e3779b9;
  for (const part of parts) hash = Math.imul(hash ^ (part >>> 0), 0x85ebca6b) >>> 0;
  return hash >>> 0;
}

/** The input with every schema default filled in for properties the caller left out. */
export function withDefaults(
  model: CatalogueModel,
  input: Record<string, unknown>,
): Record<string, unknown> {
  const schema: JsonSchema | undefined = schemasOf(model)[model.inputSchema];
  const out: Record<string, unknown> = { ...input };
  for (const [name, property] of Object.entries(schema?.properties ?? {})) {
    if (!(name in out) && property.default !== undefined) out[name] = property.default;
  }
  return out;
}

function resolveSeed(input: Record<string, unknown>): number {
  const seed = input.seed;
  return Number.isInteger(seed) ? (seed as number) : Math.floor(Math.random() * 2 ** 31);
}

function imageSize(value: unknown): ImageDimensions {
  if (typeof value === "string") return IMAGE_SIZES[value] ?? IMAGE_SIZES.landscape_4_3!;
  if (isObject(value)) {
    const width = Number.isInteger(value.width) ? (value.width as number) : 512;
    const height = Number.isInteger(value.height) ? (value.height as number) : 512;
    return { width, height };
  }
  return IMAGE_SIZES.landscape_4_3!;
}

function capSize({ width, height }: ImageDimensions): ImageDimensions {
  const scale = Math.min(1, MAX_IMAGE_SIDE / Math.max(width, height));
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

/** About one megapixel at the given `w:h` aspect ratio, in multiples of 16. */
function sizeForAspect(aspect: string): ImageDimensions {
  const [w, h] = aspect.split(":").map(Number);
  const ratio = w && h ? w / h : 1;
  const width = Math.round(Math.sqrt(1024 * 1024 * ratio) / 16) * 16;
  const height = Math.round(Math.sqrt((1024 * 1024) / ratio) / 16) * 16;
  return { width, height };
}

const base64 = (bytes: Uint8Array): string => {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
};

function decodeDataUri(uri: string): Uint8Array<ArrayBuffer> | undefined {
  const match = /^data:[^,]*;base64,(.*)$/s.exec(uri);
  if (!match) return undefined;
  try {
    return Uint8Array.from(atob(match[1]!), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** An input file URL: bytes when the fake can see them, `missing` when it should but cannot. */
interface InputFile {
  bytes?: Uint8Array<ArrayBuffer>;
  missing: boolean;
}

function inputFile(url: string, files: FileStore): InputFile {
  if (url.startsWith("data:")) {
    const bytes = decodeDataUri(url);
    return bytes ? { bytes, missing: false } : { missing: true };
  }
  if (files.nameOf(url) !== undefined) {
    const file = files.resolve(url);
    return file ? { bytes: file.bytes, missing: false } : { missing: true };
  }
  // Any other URL is on the (unreachable) internet: accept it without looking.
  return { missing: false };
}

function downloadError(field: string): Outcome {
  return modelError(
    422,
    "file_download_error",
    "Failed to download the file. Please check if the URL is accessible.",
    ["body", field],
  );
}

interface Facts {
  images?: number;
  megapixels?: number;
  seconds?: number;
  characters?: number;
}

function unitsFor(model: CatalogueModel, facts: Facts, inferenceSeconds: number): number {
  switch (model.pricing.unit) {
    case "image":
      return facts.images ?? 1;
    case "megapixels":
      return facts.megapixels ?? 1;
    case "second":
      return facts.seconds ?? 1;
    case "1000 characters":
      return (facts.characters ?? 0) / 1000;
    case "compute seconds":
      return inferenceSeconds;
    default:
      return 1;
  }
}

interface MediaRef {
  url: string;
  content_type: string;
  file_name: string;
  file_size: number;
}

function storeMedia(
  ctx: OutputContext,
  syncMode: boolean,
  name: string,
  contentType: string,
  bytes: Uint8Array<ArrayBuffer>,
): MediaRef {
  const url = syncMode
    ? `data:${contentType};base64,${base64(bytes)}`
    : ctx.files.put(`${ctx.requestId}-${name}`, contentType, bytes);
  return { url, content_type: contentType, file_name: name, file_size: bytes.length };
}

interface RenderedImage extends ImageDimensions {
  url: string;
  content_type: string;
  file_name: string;
  file_size: number;
}

function renderImage(
  ctx: OutputContext,
  opts: {
    size: ImageDimensions;
    seed: number;
    format: string;
    name: string;
    syncMode: boolean;
    alpha?: boolean;
  },
): RenderedImage {
  const png = opts.format === "png" || opts.alpha === true;
  const render = { ...opts.size, seed: opts.seed, alpha: opts.alpha ?? false };
  const bytes = png ? renderPng(render) : renderJpeg(render);
  const contentType = png ? "image/png" : "image/jpeg";
  const file = `${opts.name}.${png ? "png" : "jpg"}`;
  const media = storeMedia(ctx, opts.syncMode, file, contentType, bytes);
  return { ...media, width: opts.size.width, height: opts.size.height };
}

function ok(body: unknown, model: CatalogueModel, facts: Facts, ctx: OutputContext): Outcome {
  return { status: 200, body, headers: {}, units: unitsFor(model, facts, ctx.inferenceSeconds) };
}

const SENTENCES = [
  "Welcome to the offline transcription service.",
  "This recording was generated for testing purposes.",
  "Every sentence here is chosen deterministically from the input.",
  "The quick brown fox jumps over the lazy dog.",
  "Please keep the results you need and try again later.",
  "Thank you for listening to this short sample.",
];

function wavDurationSeconds(bytes: Uint8Array): number | undefined {
  if (bytes.length < 44) return undefined;
  const text = new TextDecoder().decode(bytes.subarray(0, 16));
  if (!text.startsWith("RIFF") || !text.includes("WAVE")) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const byteRate = view.getUint32(28, true);
  const dataSize = view.getUint32(40, true);
  return byteRate > 0 ? dataSize / byteRate : undefined;
}

/**
 * Produces a model's output for a validated input. Answers fal's 422 `file_download_error` when
 * an input URL points at the fake's own storage but the file does not exist.
 */
export function generateOutput(
  model: CatalogueModel,
  rawInput: Record<string, unknown>,
  ctx: OutputContext,
): Outcome {
  const input = withDefaults(model, rawInput);
  const seed = resolveSeed(input);
  const prompt = typeof input.prompt === "string" ? input.prompt : "";
  const syncMode = input.sync_mode === true;
  const timings = { inference: ctx.inferenceSeconds };
  const renderSeed = (i: number) => mix(seed, hashString(prompt), i);

  switch (model.generator) {
    case "text-to-image":
    case "image-edit": {
      let size = imageSize(input.image_size);
      if (model.generator === "image-edit") {
        const source = inputFile(String(input.image_url), ctx.files);
        if (source.missing) return downloadError("image_url");
        const dims = source.bytes ? readImageDimensions(source.bytes) : undefined;
        size = typeof input.aspect_ratio === "string"
          ? sizeForAspect(input.aspect_ratio)
          : capSize(dims ?? { width: 1024, height: 1024 });
      }
      const count = Number(input.num_images ?? 1);
      const images = Array.from({ length: count }, (_, i) =>
        renderImage(ctx, {
          size,
          seed: renderSeed(i),
          format: String(input.output_format),
          name: `image-${i}`,
          syncMode,
        })).map(({ url, width, height, content_type }) => ({ url, width, height, content_type }));
      return ok(
        {
          images,
          timings,
          seed,
          has_nsfw_concepts: images.map(() => false),
          prompt,
        },
        model,
        { images: count, megapixels: (count * size.width * size.height) / 1e6 },
        ctx,
      );
    }
    case "background-removal":
    case "upscale": {
      const source = inputFile(String(input.image_url), ctx.files);
      if (source.missing) return downloadError("image_url");
      const dims = (source.bytes ? readImageDimensions(source.bytes) : undefined) ??
        { width: 1024, height: 1024 };
      const factor = model.generator === "upscale" ? Number(input.upscale_factor) : 1;
      const size = capSize({
        width: Math.round(dims.width * factor),
        height: Math.round(dims.height * factor),
      });
      const image = renderImage(ctx, {
        size,
        seed: renderSeed(0),
        format: "png",
        name: model.generator === "upscale" ? "upscaled" : "rembg",
        syncMode,
        alpha: model.generator === "background-removal",
      });
      const body = model.generator === "upscale" ? { image, seed, timings } : { image };
      return ok(body, model, { images: 1, megapixels: (size.width * size.height) / 1e6 }, ctx);
    }
    case "text-to-video":
    case "image-to-video": {
      let seconds: number;
      let size: ImageDimensions;
      if (model.generator === "text-to-video") {
        seconds = Number(input.duration);
        const aspect = String(input.aspect_ratio);
        size = aspect === "9:16"
          ? { width: 720, height: 1280 }
          : aspect === "1:1"
          ? { width: 960, height: 960 }
          : { width: 1280, height: 720 };
      } else {
        const source = inputFile(String(input.image_url), ctx.files);
        if (source.missing) return downloadError("image_url");
        const dims = source.bytes ? readImageDimensions(source.bytes) : undefined;
        seconds = Number(input.num_frames) / Number(input.frames_per_second);
        const long = input.resolution === "480p" ? 832 : 1280;
        const short = input.resolution === "480p" ? 480 : 720;
        let aspect = String(input.aspect_ratio);
        if (aspect === "auto") {
          aspect = !dims || dims.width > dims.height
            ? "16:9"
            : dims.width < dims.height
            ? "9:16"
            : "1:1";
        }
        size = aspect === "9:16"
          ? { width: short, height: long }
          : aspect === "1:1"
          ? { width: short, height: short }
          : { width: long, height: short };
      }
      const bytes = renderMp4({ ...size, durationSeconds: seconds, seed: renderSeed(0) });
      const video = storeMedia(ctx, false, "output.mp4", "video/mp4", bytes);
      const body = model.generator === "image-to-video" ? { video, seed } : { video };
      return ok(body, model, { seconds }, ctx);
    }
    case "text-to-speech": {
      const speed = Number(input.speed ?? 1);
      const seconds = Math.min(120, Math.max(0.5, prompt.length / 15 / speed));
      const bytes = renderWav({
        durationSeconds: seconds,
        sampleRate: 24000,
        seed: mix(hashString(String(input.voice)), hashString(prompt)),
        style: "speech",
      });
      const audio = storeMedia(ctx, false, "tts.wav", "audio/wav", bytes);
      return ok({ audio }, model, { seconds, characters: prompt.length }, ctx);
    }
    case "music": {
      const bytes = renderWav({ durationSeconds: 30, seed: renderSeed(0), style: "music" });
      const audio = storeMedia(ctx, false, "output.wav", "audio/wav", bytes);
      return ok({ audio }, model, { seconds: 30 }, ctx);
    }
    case "speech-to-text": {
      const url = String(input.audio_url);
      const source = inputFile(url, ctx.files);
      if (source.missing) return downloadError("audio_url");
      const duration = (source.bytes ? wavDurationSeconds(source.bytes) : undefined) ?? 10;
      return ok(transcription(input, url, duration), model, { seconds: duration }, ctx);
    }
  }
}

function transcription(input: Record<string, unknown>, url: string, duration: number) {
  const rand = seededRandom(hashString(url));
  const count = Math.max(1, Math.round(duration / 3));
  const sentences = Array.from(
    { length: count },
    () => SENTENCES[Math.floor(rand() * SENTENCES.length)]!,
  );
  const step = duration / count;
  const round = (n: number) => Math.round(n * 100) / 100;
  const diarize = input.diarize === true;
  const speaker = (i: number) => (diarize ? { speaker: `SPEAKER_0${i % 2}` } : {});
  let chunks: { timestamp: number[]; text: string; speaker?: string }[] = [];
  if (input.chunk_level === "word") {
    sentences.forEach((sentence, i) => {
      const words = sentence.split(" ");
      const wordStep = step / words.length;
      words.forEach((word, j) =>
        chunks.push({
          timestamp: [round(i * step + j * wordStep), round(i * step + (j + 1) * wordStep)],
          text: ` ${word}`,
          ...speaker(i),
        })
      );
    });
  } else if (input.chunk_level === "segment") {
    chunks = sentences.map((text, i) => ({
      timestamp: [round(i * step), round((i + 1) * step)],
      text: ` ${text}`,
      ...speaker(i),
    }));
  }
  const language = typeof input.language === "string" ? input.language : "en";
  return {
    text: sentences.join(" "),
    chunks,
    inferred_languages: [language],
    diarization_segments: diarize
      ? sentences.map((_, i) => ({
        timestamp: [round(i * step), round((i + 1) * step)],
        speaker: `SPEAKER_0${i % 2}`,
      }))
      : [],
  };
}
