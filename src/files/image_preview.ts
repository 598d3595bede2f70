/**
 * Downscaled previews of result images, sized for a model's context: a JPEG whose longest side
 * is at most 512 px (tens of KB at most), made from a PNG or JPEG in pure JavaScript
 * (`fast-png`, `jpeg-js`: no native binaries, no WebAssembly to load, so it runs the same under
 * `deno run`, in the bundle and in compiled binaries). The area-average downscale keeps every
 * source pixel's weight, so thin detail does not alias away. Transparency is flattened onto
 * white, as JPEG has none; the full file (with its alpha) stays a link.
 *
 * @example
 * ```ts
 * import { makePreview } from "./image_preview.ts";
 *
 * declare const png: Uint8Array;
 * const preview = makePreview(png, "image/png");
 * // preview?.mimeType === "image/jpeg"; Math.max(preview.width, preview.height) <= 512
 * ```
 *
 * @module
 */

import { convertIndexedToRgb, decode as decodePng } from "fast-png";
import jpeg from "jpeg-js";

/** Options for {@linkcode makePreview}. */
export interface PreviewOptions {
  /** Longest side of the preview, in pixels (default 512). */
  maxSide?: number;
  /** JPEG quality, 1-100 (default 70). */
  quality?: number;
  /** Images with more pixels than this are not decoded (default 4096 × 4096). */
  maxPixels?: number;
}

/** A preview and what it was made from. */
export interface ImagePreview {
  /** The preview's bytes. */
  bytes: Uint8Array;
  /** Always `image/jpeg`. */
  mimeType: "image/jpeg";
  /** Preview width in pixels. */
  width: number;
  /** Preview height in pixels. */
  height: number;
  /** Width of the source image. */
  sourceWidth: number;
  /** Height of the source image. */
  sourceHeight: number;
}

export { imageSize } from "./image_size.ts";
import { imageSize } from "./image_size.ts";

/** Decoded pixels: 8-bit samples, `channels` per pixel (1 gray … 4 RGBA). */
interface Pixels {
  width: number;
  height: number;
  channels: number;
  data: ArrayLike<number>;
  /** Largest sample value (255, or 65535 for 16-bit PNGs). */
  max: number;
}

function decode(bytes: Uint8Array, mimeType: string, maxPixels: number): Pixels | undefined {
  if (mimeType === "image/png") {
    const png = decodePng(bytes);
    if (png.palette) {
      const data = convertIndexedToRgb(png);
      return {
        width: png.width,
        height: png.height,
        channels: data.length / (png.width * png.height),
        data,
        max: 255,
      };
    }
    if (png.depth < 8) return undefined;
    return {
      width: png.width,
      height: png.height,
      channels: png.channels,
      data: png.data,
      max: png.depth === 16 ? 65535 : 255,
    };
  }
  if (mimeType === "image/jpeg" || mimeType === "image/jpg") {
    const image = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: maxPixels / 1_000_000,
      maxMemoryUsageInMB: Math.ceil((maxPixels * 4) / 1_000_000) + 64,
    });
    return { width: image.width, height: image.height, channels: 4, data: image.data, max: 255 };
  }
  return undefined;
}

/** Area-average downscale to `width` × `height`, as RGBA over white. */
function downscale(source: Pixels, width: number, height: number): Uint8Array {
  const { data, channels, max } = source;
  const out = new Uint8Array(width * height * 4);
  const scale = 255 / max;
  const gray = channels <= 2;
  const alphaAt = channels === 2 ? 1 : channels === 4 ? 3 : -1;
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor((y * source.height) / height);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * source.height) / height));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor((x * source.width) / width);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * source.width) / width));
      let r = 0, g = 0, b = 0, n = 0;
      for (let sy = y0; sy < y1; sy++) {
        let i = (sy * source.width + x0) * channels;
        for (let sx = x0; sx < x1; sx++, i += channels) {
          const alpha = alphaAt < 0 ? 1 : data[i + alphaAt]! / max;
          const rr = data[i]! * scale;
          const gg = gray ? rr : data[i + 1]! * scale;
          const bb = gray ? rr : data[i + 2]! * scale;
          // Over white: what a viewer shows for a transparent pixel.
          r += rr * alpha + 255 * (1 - alpha);
          g += gg * alpha + 255 * (1 - alpha);
          b += bb * alpha + 255 * (1 - alpha);
          n++;
        }
      }
      const o = (y * width + x) * 4;
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = b / n;
      out[o + 3] = 255;
    }
  }
  return out;
}

/**
 * A JPEG preview of a PNG or JPEG image, its longest side at most `maxSide`; `undefined` when
 * the format is not one of those, the image is larger than `maxPixels`, or it cannot be decoded.
 */
export function makePreview(
  bytes: Uint8Array,
  mimeType: string,
  options: PreviewOptions = {},
): ImagePreview | undefined {
  const maxSide = options.maxSide ?? 512;
  const maxPixels = options.maxPixels ?? 4096 * 4096;
  const type = mimeType.split(";")[0]!.trim().toLowerCase();
  const size = imageSize(bytes);
  if (!size || size.width < 1 || size.height < 1 || size.width * size.height > maxPixels) {
    return undefined;
  }
  let source: Pixels | undefined;
  try {
    source = decode(bytes, type, maxPixels);
  } catch {
    return undefined;
  }
  if (!source) return undefined;
  const factor = Math.min(1, maxSide / Math.max(source.width, source.height));
  const width = Math.max(1, Math.round(source.width * factor));
  const height = Math.max(1, Math.round(source.height * factor));
  const rgba = downscale(source, width, height);
  const encoded = jpeg.encode({ data: rgba, width, height }, options.quality ?? 70).data;
  return {
    bytes: new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength),
    mimeType: "image/jpeg",
    width,
    height,
    sourceWidth: source.width,
    sourceHeight: source.height,
  };
}
