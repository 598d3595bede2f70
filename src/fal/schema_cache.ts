/**
 * Model schemas fetched from fal's catalogue, cached for a while: task tools validate every
 * input against the chosen model's own schema, and fetching it on every call would double the
 * latency of a generation.
 *
 * @module
 */

import { FalMcpError, invalidParams } from "../errors.ts";
import type { FalClient } from "./client.ts";
import { parseEndpointId } from "./endpoint_id.ts";
import { extractModelSchemas, type JsonSchema } from "./openapi.ts";
import type { ModelMetadata } from "./types.ts";

/** A model's catalogue entry with its schemas. */
export interface ModelInfo {
  /** The endpoint id. */
  endpointId: string;
  /** Catalogue metadata (name, category, status…). */
  metadata: ModelMetadata;
  /** Input schema, refs resolved. */
  input: JsonSchema | undefined;
  /** Output schema, refs resolved. */
  output: JsonSchema | undefined;
}

interface Entry {
  at: number;
  info: Promise<ModelInfo>;
}

/** A process-wide cache of model schemas (the catalogue is public: one cache serves all keys). */
export class SchemaCache {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  /** Keeps schemas for `ttlMs` (default 10 minutes), at most `maxEntries` (default 500). */
  constructor(options: { ttlMs?: number; maxEntries?: number } = {}) {
    this.#ttlMs = options.ttlMs ?? 10 * 60_000;
    this.#maxEntries = options.maxEntries ?? 500;
  }

  /** The model's schemas; throws a clear error for an unknown model or a missing schema. */
  get(fal: FalClient, endpointId: string, signal?: AbortSignal): Promise<ModelInfo> {
    const id = parseEndpointId(endpointId).full;
    const cached = this.#entries.get(id);
    if (cached && Date.now() - cached.at < this.#ttlMs) return cached.info;
    const info = this.#fetch(fal, id, signal);
    this.#entries.set(id, { at: Date.now(), info });
    info.catch(() => this.#entries.delete(id));
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return info;
  }

  async #fetch(fal: FalClient, id: string, signal?: AbortSignal): Promise<ModelInfo> {
    const page = await fal.listModels({ endpointIds: [id], expandOpenApi: true }, signal);
    const model = page.models.find((m) => m.endpoint_id === id);
    if (!model) {
      throw invalidParams(
        `Unknown endpoint id "${id}": fal's catalogue has no such model. Use search_models to find one.`,
        { status: 404 },
      );
    }
    const expansionError = (model.openapi?.error as { message?: string } | undefined)?.message;
    if (!model.openapi || expansionError) {
      throw new FalMcpError(
        `fal has no schema for ${id}${expansionError ? `: ${expansionError}` : ""}`,
        { status: 502 },
      );
    }
    const { input, output } = extractModelSchemas(model.openapi);
    return { endpointId: id, metadata: model.metadata ?? {}, input, output };
  }
}
