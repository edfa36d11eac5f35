import * as otel from '@opentelemetry/api';

/**
 * Marks a stretch of workflow time (a durable timer: a poll interval, a quota wait) as a span in the export's
 * trace, a child of the workflow's span. OpenTelemetry's workflow interceptors trace activities, child workflows
 * and signals but not timers, so without this a wait shows as a gap.
 *
 * Replay-safe: a span issues no command; its ids come from the workflow's seeded random and its times from the
 * workflow clock, and the worker exports it once, when it ends outside replay. Without the tracing interceptors in
 * the bundle the tracer is OpenTelemetry's no-op one and this only runs `body`.
 *
 * Usage: `await inWorkflowSpan('wait quota', { 'exportflow.vendor': 'altcraft' }, () => sleep(ms))`.
 */
export async function inWorkflowSpan<T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  body: () => Promise<T>,
): Promise<T> {
  const tracer = otel.trace.getTracer('exportflow-workflow');
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await body();
    } catch (err) {
      // A cancelled wait ends the span as an error too: the trace then shows where a cancellation landed.
      span.setStatus({ code: otel.SpanStatusCode.ERROR, message: (err as Error)?.message ?? String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}
