/**
 * What the fake fal server remembers, exposed so tests can inspect it: jobs, received requests,
 * uploads and webhook deliveries. Treat everything here as read-only.
 *
 * @module
 */

/** Queue status of a job, as fal reports it. */
export type FakeJobStatus = "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED";

/** One log line of a job, in fal's shape. */
export interface FakeLog {
  /** Log text. */
  message: string;
  /** Severity. */
  level: "INFO" | "WARNING" | "ERROR";
  /** Always `"user"` (the model app's own output). */
  source: "user";
  /** ISO 8601 time. */
  timestamp: string;
}

/** What the model answered: status code, body and extra headers (passed through as is). */
export interface FakeJobResult {
  /** HTTP status of the model's answer. */
  status: number;
  /** JSON body of the model's answer. */
  body: unknown;
  /** Extra response headers (e.g. `x-fal-error-type`). */
  headers: Record<string, string>;
}

/** A job: a queued request (`mode: "queue"`) or a synchronous run (`mode: "sync"`). */
export interface FakeJob {
  /** fal request id (a UUID). */
  readonly requestId: string;
  /** Full endpoint id the job was submitted to, e.g. `fal-ai/flux/dev`. */
  readonly endpointId: string;
  /** App-level id used for status/result/cancel URLs, e.g. `fal-ai/flux`. */
  readonly appId: string;
  /** How the job was submitted. */
  readonly mode: "queue" | "sync";
  /** The submitted input, as received. */
  readonly input: Record<string, unknown>;
  /** The API key the job belongs to (only that key can read or cancel it). */
  readonly key: string;
  /** `x-fal-*` request headers sent with the submit. */
  readonly headers: Record<string, string>;
  /** `fal_webhook` URL, if one was given. */
  readonly webhookUrl?: string;
  /** Planned total running time (queue + inference), in milliseconds. */
  readonly durationMs: number;
  /** When the job was submitted (ISO 8601). */
  readonly submittedAt: string;
  /** Current status. */
  status: FakeJobStatus;
  /** Position in the queue while `IN_QUEUE`. */
  queuePosition: number;
  /** Log lines so far. */
  logs: FakeLog[];
  /** Whether a cancel was accepted for this job. */
  cancelled: boolean;
  /** When inference started (ISO 8601). */
  startedAt?: string;
  /** When the job completed (ISO 8601). */
  completedAt?: string;
  /** Inference time in seconds, once completed after starting. */
  inferenceTime?: number;
  /** The model's answer, once completed. */
  result?: FakeJobResult;
  /** Why the job failed, when it did (also shown in the COMPLETED status). */
  error?: { message: string; type?: string };
  /** Billing units the job used (in its endpoint's pricing unit); 0 unless it succeeded. */
  units: number;
}

/** One HTTP request the fake received. Keys are never stored here. */
export interface ReceivedRequest {
  /** HTTP method. */
  method: string;
  /** URL path, e.g. `/queue/fal-ai/flux/dev`. */
  path: string;
  /** URL query string including `?`, or `""`. */
  search: string;
  /** Whether an `Authorization` header was present. */
  hasAuthorization: boolean;
  /** `Content-Type` of the request, if any. */
  contentType: string | null;
  /** Every `x-fal-*` request header. */
  falHeaders: Record<string, string>;
  /** Status the fake answered (0 until answered). */
  status: number;
  /** Message of an unexpected internal error, if one happened. */
  internalError?: string;
  /** The injected fault that answered it (`429`, `503`, `drop_stream`, …), if one did. */
  fault?: string;
  /** When the request arrived (ISO 8601). */
  at: string;
}

/** One part of a multipart upload. */
export interface FakeUploadPart {
  /** 1-based part number. */
  partNumber: number;
  /** Bytes received for the part. */
  size: number;
  /** ETag answered for the part. */
  etag: string;
}

/** A storage upload (single PUT or multipart). */
export interface FakeUpload {
  /** Opaque upload token (part of `uploadUrl`). */
  readonly token: string;
  /** Whether this is a multipart upload. */
  readonly multipart: boolean;
  /** File name from the initiate call. */
  readonly fileName: string;
  /** Content type from the initiate call. */
  readonly contentType: string;
  /** Where to PUT the bytes (or the parts). */
  readonly uploadUrl: string;
  /** Where the file is served once uploaded. */
  readonly fileUrl: string;
  /** Total bytes received (sum of parts for multipart). */
  size: number;
  /** Parts received (multipart only), by part number. */
  parts: FakeUploadPart[];
  /** Whether the file is complete and served at `fileUrl`. */
  completed: boolean;
}

/** One webhook delivery attempt. */
export interface WebhookDelivery {
  /** Request id the webhook is about. */
  requestId: string;
  /** Target URL. */
  url: string;
  /** JSON body that was posted. */
  body: unknown;
  /** HTTP status the receiver answered, once it answered. */
  status?: number;
  /** Why delivery failed, if it did. */
  error?: string;
}

/** Everything the fake remembers. */
export interface FakeFalState {
  /** Jobs by request id (queue and sync). */
  readonly jobs: Map<string, FakeJob>;
  /** Requests received, oldest first. */
  readonly requests: ReceivedRequest[];
  /** Uploads, oldest first. */
  readonly uploads: FakeUpload[];
  /** Webhook deliveries, oldest first. */
  readonly webhooks: WebhookDelivery[];
}

/** A new, empty state. */
export function createState(): FakeFalState {
  return { jobs: new Map(), requests: [], uploads: [], webhooks: [] };
}
