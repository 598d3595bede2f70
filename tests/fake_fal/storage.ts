/**
 * Storage uploads of the fake, following fal-js: `POST {origin}/rest/storage/upload/initiate`
 * (rest.fal.ai, key required) hands out an `upload_url` (a pre-signed URL: no key needed) and a
 * `file_url`; multipart uploads PUT `{upload_url}/{partNumber}` and POST `{upload_url}/complete`.
 *
 * @module
 */

import type { FakeContext } from "./context.ts";
import {
  detail,
  isObject,
  json,
  methodNotAllowed,
  notFound,
  readBodyCapped,
  readJson,
} from "./http.ts";
import { crc32 } from "./media.ts";
import type { FakeUpload } from "./state.ts";

interface StoredPart {
  bytes: Uint8Array<ArrayBuffer>;
  size: number;
  etag: string;
}

const partBytes = new WeakMap<FakeUpload, Map<number, StoredPart>>();

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function safeFileName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "");
  return cleaned === "" ? "file.bin" : cleaned.slice(0, 200);
}

function findUpload(ctx: FakeContext, token: string, multipart: boolean): FakeUpload | undefined {
  return ctx.state.uploads.find((u) => u.token === token && u.multipart === multipart);
}

/** Handles `{origin}/rest/…` (rest.fal.ai). `segments` is the path after `/rest/`. */
export async function handleRest(
  req: Request,
  ctx: FakeContext,
  segments: string[],
): Promise<Response> {
  const path = segments.join("/");
  if (path !== "storage/upload/initiate" && path !== "storage/upload/initiate-multipart") {
    return notFound();
  }
  if (req.method !== "POST") return methodNotAllowed(["POST"]);
  const body = await readJson(req);
  if (!body.ok || !isObject(body.value)) {
    return detail(422, [{
      loc: ["body"],
      msg: "value is not a valid dict",
      type: "type_error.dict",
    }]);
  }
  const { content_type: contentType, file_name: fileName } = body.value;
  const issues = [];
  if (contentType !== undefined && contentType !== null && typeof contentType !== "string") {
    issues.push({
      loc: ["body", "content_type"],
      msg: "str type expected",
      type: "type_error.str",
    });
  }
  if (fileName !== undefined && typeof fileName !== "string") {
    issues.push({ loc: ["body", "file_name"], msg: "str type expected", type: "type_error.str" });
  }
  if (issues.length > 0) return detail(422, issues);
  const multipart = path.endsWith("-multipart");
  const token = randomToken();
  const name = safeFileName(typeof fileName === "string" ? fileName : `${Date.now()}.bin`);
  const upload: FakeUpload = {
    token,
    multipart,
    fileName: typeof fileName === "string" ? fileName : name,
    contentType: typeof contentType === "string" && contentType !== ""
      ? contentType
      : "application/octet-stream",
    uploadUrl: `${ctx.origin}/upload/${multipart ? "multipart/" : ""}${token}`,
    fileUrl: ctx.files.url(`uploads/${token}/${name}`),
    size: 0,
    parts: [],
    completed: false,
  };
  ctx.state.uploads.push(upload);
  return json({ upload_url: upload.uploadUrl, file_url: upload.fileUrl });
}

/** Handles the pre-signed upload URLs under `{origin}/upload/` (no key needed, like fal's). */
export async function handleUpload(
  req: Request,
  ctx: FakeContext,
  segments: string[],
): Promise<Response> {
  if (segments.length === 1) {
    const upload = findUpload(ctx, segments[0]!, false);
    if (!upload) return notFound();
    if (req.method !== "PUT") return methodNotAllowed(["PUT"]);
    const body = await readBodyCapped(req, ctx.options.maxKeptBytes);
    upload.size = body.size;
    upload.completed = true;
    ctx.files.put(fileNameOf(ctx, upload), upload.contentType, body.bytes, body.size);
    return new Response(null, { status: 200 });
  }
  if (segments.length !== 3 || segments[0] !== "multipart") return notFound();
  const upload = findUpload(ctx, segments[1]!, true);
  if (!upload) return notFound();
  const action = segments[2]!;
  if (action === "complete") {
    if (req.method !== "POST") return methodNotAllowed(["POST"]);
    return await completeMultipart(req, ctx, upload);
  }
  if (!/^[1-9][0-9]{0,4}$/.test(action) || Number(action) > 10000) return notFound();
  if (req.method !== "PUT") return methodNotAllowed(["PUT"]);
  if (upload.completed) return detail(400, "Upload already completed");
  const partNumber = Number(action);
  let parts = partBytes.get(upload);
  if (!parts) {
    parts = new Map();
    partBytes.set(upload, parts);
  }
  let keptElsewhere = 0;
  for (const [n, part] of parts) if (n !== partNumber) keptElsewhere += part.bytes.length;
  const body = await readBodyCapped(req, Math.max(0, ctx.options.maxKeptBytes - keptElsewhere));
  const etag = `"${crc32(body.bytes).toString(16).padStart(8, "0")}${body.size.toString(16)}"`;
  parts.set(partNumber, { bytes: body.bytes, size: body.size, etag });
  upload.parts = [...parts].sort(([a], [b]) => a - b).map(([n, part]) => ({
    partNumber: n,
    size: part.size,
    etag: part.etag,
  }));
  upload.size = upload.parts.reduce((sum, part) => sum + part.size, 0);
  return json({ partNumber, etag });
}

function fileNameOf(ctx: FakeContext, upload: FakeUpload): string {
  return ctx.files.nameOf(upload.fileUrl)!;
}

async function completeMultipart(
  req: Request,
  ctx: FakeContext,
  upload: FakeUpload,
): Promise<Response> {
  const body = await readJson(req);
  const list = body.ok && isObject(body.value) ? body.value.parts : undefined;
  if (!Array.isArray(list) || list.length === 0) {
    return detail(400, 'Invalid body: expected {"parts":[{"partNumber","etag"}, …]}');
  }
  const stored = partBytes.get(upload) ?? new Map<number, StoredPart>();
  const seen = new Set<number>();
  for (const item of list) {
    const partNumber = isObject(item) ? item.partNumber : undefined;
    const part = typeof partNumber === "number" ? stored.get(partNumber) : undefined;
    if (!isObject(item) || !part || typeof partNumber !== "number" || seen.has(partNumber)) {
      return detail(400, `Invalid part in the part list: ${JSON.stringify(item)}`);
    }
    if (item.etag !== part.etag) {
      return detail(400, `ETag mismatch for part ${partNumber}`);
    }
    seen.add(partNumber);
  }
  const ordered = [...seen].sort((a, b) => a - b).map((n) => stored.get(n)!);
  const size = ordered.reduce((sum, part) => sum + part.size, 0);
  let keptLength = 0;
  for (const part of ordered) {
    keptLength += part.bytes.length;
    if (part.bytes.length < part.size) break;
  }
  const bytes = new Uint8Array(keptLength);
  let offset = 0;
  for (const part of ordered) {
    bytes.set(part.bytes, offset);
    offset += part.bytes.length;
    if (part.bytes.length < part.size) break;
  }
  upload.size = size;
  upload.completed = true;
  ctx.files.put(fileNameOf(ctx, upload), upload.contentType, bytes, size);
  partBytes.delete(upload);
  return json({ file_url: upload.fileUrl });
}
