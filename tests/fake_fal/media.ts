/**
 * Real media bytes for the fake fal server: PNG and baseline JPEG images (seeded gradients), PCM
 * WAV audio (seeded tones) and a minimal ISO BMFF (`.mp4`) file. Everything is generated in
 * memory from a seed, so the same seed always gives the same bytes.
 *
 * @module
 */

import { deflateSync } from "node:zlib";

/** Size of an image in pixels. */
export interface ImageDimensions {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** Options for {@linkcode renderPng} and {@linkcode renderJpeg}. */
export interface ImageRenderOptions extends ImageDimensions {
  /** Seed for the colours; the same seed gives the same bytes. */
  seed: number;
  /** PNG only: add an alpha channel with a transparent background around a central ellipse. */
  alpha?: boolean;
}

const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO 3309, as used by PNG and zip) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A small deterministic PRNG (mulberry32); returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rgb = [number, number, number];

/** The colour function shared by the PNG and JPEG renderers. */
function gradient(width: number, height: number, seed: number): (x: number, y: number) => Rgb {
  const rand = seededRandom(seed);
  const pick = (): Rgb => [
    Math.floor(rand() * 256),
    Math.floor(rand() * 256),
    Math.floor(rand() * 256),
  ];
  const a = pick();
  const b = pick();
  const c = pick();
  const w = Math.max(1, width - 1);
  const h = Math.max(1, height - 1);
  return (x, y) => {
    const t = x / w;
    const u = y / h;
    const v = (t + u) / 2;
    return [
      Math.round(a[0] + (b[0] - a[0]) * t),
      Math.round(a[1] + (c[1] - a[1]) * u),
      Math.round(a[2] + (b[2] - a[2]) * v),
    ];
  };
}

function assertDimensions({ width, height }: ImageDimensions): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`Cannot render a ${width}x${height} image: sizes must be integers >= 1`);
  }
}

function u32be(value: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0);
  return out;
}

function ascii(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text);
}

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array<ArrayBuffer> {
  const typed = concat([ascii(type), data]);
  return concat([u32be(data.length), typed, u32be(crc32(typed))]);
}

/** The eight bytes every PNG file starts with. */
export const PNG_SIGNATURE: Uint8Array<ArrayBuffer> = new Uint8Array([
  137,
  80,
  78,
  71,
  13,
  10,
  26,
  10,
]);

/**
 * Renders a valid PNG (8-bit RGB, or RGBA with `alpha`) of exactly `width`×`height` showing a
 * seeded gradient. Rows use the Sub/Up filters so large images stay small and fast to deflate.
 */
export function renderPng(options: ImageRenderOptions): Uint8Array<ArrayBuffer> {
  assertDimensions(options);
  const { width, height, seed } = options;
  const channels = options.alpha ? 4 : 3;
  const color = gradient(width, height, seed);
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height);
  let prev = new Uint8Array(stride);
  let row = new Uint8Array(stride);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const rx = Math.max(1, width * 0.38);
  const ry = Math.max(1, height * 0.42);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = color(x, y);
      const i = x * channels;
      row[i] = r;
      row[i + 1] = g;
      row[i + 2] = b;
      if (channels === 4) {
        const dx = (x - cx) / rx;
        const dy = (y - cy) / ry;
        row[i + 3] = dx * dx + dy * dy <= 1 ? 255 : 0;
      }
    }
    const base = y * (stride + 1);
    if (y === 0) {
      raw[base] = 1; // Sub
      for (let i = 0; i < stride; i++) {
        const left = i >= channels ? row[i - channels]! : 0;
        raw[base + 1 + i] = (row[i]! - left) & 0xff;
      }
    } else {
      raw[base] = 2; // Up
      for (let i = 0; i < stride; i++) raw[base + 1 + i] = (row[i]! - prev[i]!) & 0xff;
    }
    [prev, row] = [row, prev];
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 4 ? 6 : 2; // colour type: RGBA or RGB
  // compression, filter and interlace methods are all 0.
  return concat([
    PNG_SIGNATURE,
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", new Uint8Array(deflateSync(raw))),
    pngChunk("IEND", new Uint8Array(0)),
  ]);
}

/** Bit writer for the JPEG entropy-coded segment (with 0xFF byte stuffing). */
class BitWriter {
  #bytes: number[] = [];
  #acc = 0;
  #count = 0;

  write(code: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.#acc = (this.#acc << 1) | ((code >>> i) & 1);
      this.#count++;
      if (this.#count === 8) this.#flushByte();
    }
  }

  #flushByte(): void {
    this.#bytes.push(this.#acc);
    if (this.#acc === 0xff) this.#bytes.push(0);
    this.#acc = 0;
    this.#count = 0;
  }

  finish(): Uint8Array<ArrayBuffer> {
    if (this.#count > 0) this.write((1 << (8 - this.#count)) - 1, 8 - this.#count);
    return new Uint8Array(this.#bytes);
  }
}

// Standard luminance DC table (ITU T.81 Annex K.3): code lengths 1..16 and symbols.
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
// AC table with a single symbol, end-of-block (0x00), coded as the 1-bit code "0".
const AC_BITS = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const AC_VALUES = [0];

function huffmanCodes(bits: readonly number[], values: readonly number[]): Map<number, [
  number,
  number,
]> {
  const codes = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    for (let i = 0; i < bits[length - 1]!; i++) {
      codes.set(values[k++]!, [code, length]);
      code++;
    }
    code <<= 1;
  }
  return codes;
}

const DC_CODES = huffmanCodes(DC_BITS, DC_VALUES);
const AC_EOB = huffmanCodes(AC_BITS, AC_VALUES).get(0)!;

function segment(marker: number, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const head = new Uint8Array(4);
  const view = new DataView(head.buffer);
  view.setUint16(0, marker);
  view.setUint16(2, payload.length + 2);
  return concat([head, payload]);
}

/**
 * Renders a valid baseline JPEG (JFIF, YCbCr 4:4:4) of exactly `width`×`height`. Each 8×8
 * block is one flat colour of the seeded gradient (DC-only coding), which keeps the encoder tiny.
 */
export function renderJpeg(options: ImageRenderOptions): Uint8Array<ArrayBuffer> {
  assertDimensions(options);
  const { width, height, seed } = options;
  const color = gradient(width, height, seed);
  const app0 = new Uint8Array([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const dqt = new Uint8Array(65).fill(8);
  dqt[0] = 0; // 8-bit precision, table 0
  const sof = new Uint8Array(15);
  const sofView = new DataView(sof.buffer);
  sof[0] = 8;
  sofView.setUint16(1, height);
  sofView.setUint16(3, width);
  sof.set([3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0], 5);
  const dht = concat([
    new Uint8Array([0x00, ...DC_BITS, ...DC_VALUES]),
    new Uint8Array([0x10, ...AC_BITS, ...AC_VALUES]),
  ]);
  const sos = new Uint8Array([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]);

  const bits = new BitWriter();
  const previous = [0, 0, 0];
  const blocksX = Math.ceil(width / 8);
  const blocksY = Math.ceil(height / 8);
  for (let by = 0; by < blocksY; by++) {
    for (let bx = 0; bx < blocksX; bx++) {
      const [r, g, b] = color(Math.min(width - 1, bx * 8 + 4), Math.min(height - 1, by * 8 + 4));
      const ycc = [
        0.299 * r + 0.587 * g + 0.114 * b,
        128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
        128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
      ];
      for (let c = 0; c < 3; c++) {
        // DC coefficient = 8 × (mean − 128); with quantiser 8 that is mean − 128.
        const dc = Math.max(-128, Math.min(127, Math.round(ycc[c]! - 128)));
        const diff = dc - previous[c]!;
        previous[c] = dc;
        const magnitude = Math.abs(diff);
        const size = magnitude === 0 ? 0 : Math.floor(Math.log2(magnitude)) + 1;
        const [code, length] = DC_CODES.get(size)!;
        bits.write(code, length);
        if (size > 0) bits.write(diff > 0 ? diff : diff + (1 << size) - 1, size);
        bits.write(AC_EOB[0], AC_EOB[1]);
      }
    }
  }
  return concat([
    new Uint8Array([0xff, 0xd8]),
    segment(0xffe0, app0),
    segment(0xffdb, dqt),
    segment(0xffc0, sof),
    segment(0xffc4, dht),
    segment(0xffda, sos),
    bits.finish(),
    new Uint8Array([0xff, 0xd9]),
  ]);
}

/**
 * Reads the pixel size of a PNG (IHDR) or JPEG (first SOFn marker) from its leading bytes;
 * `undefined` for anything else.
 */
export function readImageDimensions(bytes: Uint8Array): ImageDimensions | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 24 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) {
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1]!;
    const length = view.getUint16(offset + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (isSof) {
      return { width: view.getUint16(offset + 7), height: view.getUint16(offset + 5) };
    }
    offset += 2 + length;
  }
  return undefined;
}

/** Options for {@linkcode renderWav}. */
export interface WavRenderOptions {
  /** Length of the clip in seconds (> 0). */
  durationSeconds: number;
  /** Samples per second; defaults to 16000. */
  sampleRate?: number;
  /** Seed for the tone; the same seed gives the same bytes. */
  seed: number;
  /** `"speech"` gives syllable-like bursts, `"music"` a slow arpeggio (default `"music"`). */
  style?: "speech" | "music";
}

/** Renders a valid RIFF/WAVE file: 16-bit PCM mono with a seeded tone. */
export function renderWav(options: WavRenderOptions): Uint8Array<ArrayBuffer> {
  const sampleRate = options.sampleRate ?? 16000;
  if (!(options.durationSeconds > 0) || !Number.isInteger(sampleRate) || sampleRate < 1) {
    throw new RangeError("Cannot render audio: duration must be > 0 and the sample rate >= 1");
  }
  const samples = Math.max(1, Math.round(options.durationSeconds * sampleRate));
  const dataBytes = samples * 2;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  out.set(ascii("RIFF"), 0);
  view.setUint32(4, 36 + dataBytes, true);
  out.set(ascii("WAVEfmt "), 8);
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  out.set(ascii("data"), 36);
  view.setUint32(40, dataBytes, true);
  const rand = seededRandom(options.seed);
  const base = 180 + rand() * 300;
  const speech = options.style === "speech";
  const ratios = [1, 1.25, 1.5, 2];
  for (let i = 0; i < samples; i++) {
    const t = i / sampleRate;
    let amplitude: number;
    let frequency: number;
    if (speech) {
      const syllable = t * 4;
      amplitude = 0.3 * Math.max(0, Math.sin(Math.PI * (syllable % 1)));
      frequency = base * (1 + 0.1 * Math.sin(Math.floor(syllable)));
    } else {
      amplitude = 0.25;
      frequency = base * ratios[Math.floor(t * 2) % ratios.length]!;
    }
    const value = amplitude * Math.sin(2 * Math.PI * frequency * t);
    view.setInt16(44 + i * 2, Math.round(value * 32767), true);
  }
  return out;
}

/** Options for {@linkcode renderMp4}. */
export interface Mp4RenderOptions extends ImageDimensions {
  /** Length reported in the movie header, in seconds. */
  durationSeconds: number;
  /** Seed recorded in the file; the same options give the same bytes. */
  seed: number;
}

function box(type: string, ...payload: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const body = concat(payload);
  return concat([u32be(body.length + 8), ascii(type), body]);
}

/**
 * Renders a minimal, structurally valid ISO BMFF (MP4) file: an `ftyp` box, a `moov` box holding
 * a movie header (`mvhd`) with the requested duration, and a `free` box describing the clip. It
 * has no media tracks, so players open it but show nothing.
 */
export function renderMp4(options: Mp4RenderOptions): Uint8Array<ArrayBuffer> {
  const ftyp = box(
    "ftyp",
    ascii("isom"),
    u32be(0x200),
    ascii("isom"),
    ascii("iso2"),
    ascii("avc1"),
    ascii("mp41"),
  );
  const mvhd = new Uint8Array(100);
  const view = new DataView(mvhd.buffer);
  // version 0 and flags 0 (bytes 0-3), creation and modification times 0 (bytes 4-11).
  view.setUint32(12, 1000); // timescale: milliseconds
  view.setUint32(16, Math.round(options.durationSeconds * 1000));
  view.setUint32(20, 0x00010000); // rate 1.0
  view.setUint16(24, 0x0100); // volume 1.0
  // Unity matrix at byte 36.
  const matrix = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];
  matrix.forEach((value, i) => view.setUint32(36 + i * 4, value));
  view.setUint32(96, 1); // next track id
  const note = `fake-fal ${options.width}x${options.height} ${options.durationSeconds}s seed=${
    options.seed >>> 0
  }`;
  return concat([ftyp, box("moov", box("mvhd", mvhd)), box("free", ascii(note))]);
}
