/**
 * Tracing through the OpenTelemetry API. Deno exports spans itself when started with
 * `OTEL_DENO=true` (plus the usual `OTEL_EXPORTER_OTLP_*` settings) and also traces `Deno.serve`
 * and `fetch`; without it, these spans cost next to nothing.
 *
 * @module
 */

import { type Attributes, SpanStatusCode, trace } from "@opentelemetry/api";
import { VERSION } from "./version.ts";
import { errorMessage } from "./errors.ts";

const tracer = trace.getTracer("fal-mcp", VERSION);

/** Runs `fn` inside a span named `name`; errors mark the span and propagate. */
export async function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: () => Promise<T>,
): Promise<T> {
  return await tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: errorMessage(error),
      });
      throw error;
    } finally {
      span.end();
    }
  });
}
