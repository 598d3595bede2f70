/**
 * Shapes of what fal's APIs answer, as far as this server reads them.
 *
 * @module
 */

/** One log line of a running fal job. */
export interface FalLog {
  /** The log text. */
  message: string;
  /** `INFO`, `ERROR`, … */
  level?: string;
  /** Where it came from. */
  source?: string;
  /** ISO timestamp. */
  timestamp?: string;
}

/** A queue status as fal reports it. */
export interface QueueStatus {
  /** The job state. */
  status: "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED";
  /** Position in the queue while `IN_QUEUE`. */
  queue_position?: number;
  /** Logs, when asked for with `logs=1`. */
  logs?: FalLog[] | null;
  /** Metrics once completed, e.g. `inference_time`. */
  metrics?: Record<string, unknown>;
  /** Set when a completed run failed. */
  error?: string | null;
  /** The kind of failure, when set. */
  error_type?: string | null;
  /** The fal request id. */
  request_id?: string;
}

/** What a queue submit answers. */
export interface QueueSubmission {
  /** The fal request id. */
  request_id: string;
  /** Initial status, normally `IN_QUEUE`. */
  status?: string;
  /** Initial queue position. */
  queue_position?: number;
  /** Where the result will be. */
  response_url?: string;
  /** Where the status is. */
  status_url?: string;
  /** Where to cancel. */
  cancel_url?: string;
}

/** What a cancel answers. */
export type CancelOutcome = "CANCELLATION_REQUESTED" | "ALREADY_COMPLETED" | "NOT_FOUND";

/** Metadata of a model in the platform catalogue. */
export interface ModelMetadata {
  /** Human name. */
  display_name?: string;
  /** e.g. `text-to-image`. */
  category?: string;
  /** What it does. */
  description?: string;
  /** `active` or `deprecated`. */
  status?: string;
  /** Tags such as `fast`. */
  tags?: string[];
  /** Last update, ISO. */
  updated_at?: string;
  /** Preview image. */
  thumbnail_url?: string;
  /** The model's page or endpoint. */
  model_url?: string;
  /** Other fields fal may add. */
  [key: string]: unknown;
}

/** One model of the platform catalogue. */
export interface FalModel {
  /** The endpoint id, e.g. `fal-ai/flux/dev`. */
  endpoint_id: string;
  /** Catalogue metadata. */
  metadata?: ModelMetadata;
  /** The OpenAPI document, when expanded (or an expansion error). */
  openapi?: Record<string, unknown>;
}

/** One page of the platform catalogue. */
export interface ModelsPage {
  /** The models on this page. */
  models: FalModel[];
  /** Cursor of the next page, or null. */
  next_cursor: string | null;
  /** Whether there are more pages. */
  has_more: boolean;
}

/** Query for the platform models API. */
export interface ModelsQuery {
  /** Free-text search. */
  q?: string | undefined;
  /** Category filter, e.g. `text-to-image`. */
  category?: string | undefined;
  /** `active` or `deprecated`. */
  status?: "active" | "deprecated" | undefined;
  /** Exact endpoint ids (at most 50). */
  endpointIds?: string[] | undefined;
  /** Page size. */
  limit?: number | undefined;
  /** Cursor from a previous page. */
  cursor?: string | undefined;
  /** Include each model's OpenAPI document. */
  expandOpenApi?: boolean | undefined;
}
