/**
 * The `outputSchema` of every tool: what its `structuredContent` holds. Kept compact (they are
 * part of `tools/list`, which a model reads on every turn) and open (objects are advertised
 * without `additionalProperties`, so results may carry more fields than listed): a client can
 * rely on the listed fields.
 *
 * @module
 */

import { z } from "zod";
import { toolSchema } from "./tool_schema.ts";

const text = z.string();
const amount = z.number();
const anyObject = z.record(z.string(), z.unknown());

// Only the fields a client can count on are listed; the rest (the result once done, endpoint
// id, queue position, times, error, saved files) is there too, or when it applies.
const job = z.object({ job_id: text, status: text });

/**
 * A job as it stands (task tools, `run_model`, `submit_job`), or, with status
 * `confirmation_required` and no job yet, the cost confirmation a run waits for.
 */
export const runOutput: z.ZodType = toolSchema(job.extend({ job_id: text.optional() }));

/** A job as it stands (`get_job`). */
export const jobOutput: z.ZodType = toolSchema(job);

/** `cancel_job`: the job and what the cancel did. */
export const cancelJobOutput: z.ZodType = toolSchema(job.extend({ outcome: text }));

/** `list_jobs`: a page of jobs. */
export const listJobsOutput: z.ZodType = toolSchema(
  z.object({
    jobs: z.array(z.object({ job_id: text, status: text })),
    next_cursor: text.nullable(),
  }),
);

/** `search_models`: a page of catalogue entries. */
export const searchModelsOutput: z.ZodType = toolSchema(z.object({
  models: z.array(z.object({ endpoint_id: text })),
  has_more: z.boolean(),
}));

/** `get_model_schema`: a model's metadata and schemas. */
export const modelSchemaOutput: z.ZodType = toolSchema(z.object({
  endpoint_id: text,
  input_schema: anyObject.nullable(),
}));

/** `get_pricing`: unit prices. */
export const pricingOutput: z.ZodType = toolSchema(z.object({
  prices: z.array(z.object({ endpoint_id: text, unit_price: amount, unit: text })),
}));

/** `estimate_cost`: an estimate. */
export const estimateOutput: z.ZodType = toolSchema(z.object({
  total_cost: amount,
  currency: text,
}));

/** `get_usage`: usage lines and totals per currency. */
export const usageOutput: z.ZodType = toolSchema(z.object({
  usage: z.array(z.object({ endpoint_id: text, cost: amount })),
  totals: z.record(text, amount),
}));

/** `upload_file`: where the file now is. */
export const uploadOutput: z.ZodType = toolSchema(z.object({
  url: text,
  size: amount,
}));

/** `recommend_model`: ranked endpoint ids. */
export const recommendOutput: z.ZodType = toolSchema(z.object({
  recommendations: z.array(z.object({ endpoint_id: text })),
}));

/** `media_job` (app-only): the job as the media view shows it. */
export const mediaJobOutput: z.ZodType = toolSchema(z.object({ job: anyObject }));

/** `media_action` (app-only): the new job it started, or the files it saved. */
export const mediaActionOutput: z.ZodType = toolSchema(z.object({
  job: anyObject.optional(),
  saved: z.array(text).optional(),
}));
