import * as otel from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { Resource, envDetectorSync } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { version } from '../../package.json';
import { setVendorSpanner } from '../providers/observe';
import { redactSpan } from './redact';
import type { OtlpProtocol, TracingSettings } from './settings';

/**
 * The OpenTelemetry SDK as exportflow runs it: one tracer provider for the process (the client's and the
 * activities' spans, and the workflow spans the worker receives through its sink), OTLP over the configured
 * protocol, W3C trace context, undici's instrumentation for every vendor and storage call, and every span
 * redacted before it is queued for export. Loaded only when tracing is configured (see ./index.ts).
 */
export interface Tracing {
  /** What the worker hands to the workflow span sink; also the provider's own processor. */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Sends what is queued and stops exporting. */
  shutdown(): Promise<void>;
}

/** Passes each finished span on only after redacting it (see ./redact.ts). */
class RedactingSpanProcessor implements SpanProcessor {
  constructor(private readonly next: SpanProcessor) {}
  onStart(span: Span, parent: otel.Context): void {
    this.next.onStart(span, parent);
  }
  onEnd(span: ReadableSpan): void {
    redactSpan(span);
    this.next.onEnd(span);
  }
  forceFlush(): Promise<void> {
    return this.next.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.next.shutdown();
  }
}

/** The OTLP exporter for a protocol; each reads its endpoint, headers and timeout from OTEL_EXPORTER_OTLP_*. */
function otlpExporter(protocol: OtlpProtocol): SpanExporter {
  /* eslint-disable @typescript-eslint/no-require-imports -- only the configured transport is loaded */
  switch (protocol) {
    case 'grpc':
      return new (
        require('@opentelemetry/exporter-trace-otlp-grpc') as typeof import('@opentelemetry/exporter-trace-otlp-grpc')
      ).OTLPTraceExporter();
    case 'http/json':
      return new (
        require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http')
      ).OTLPTraceExporter();
    case 'http/protobuf':
      return new (
        require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto')
      ).OTLPTraceExporter();
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
}

function exporterProcessors(settings: TracingSettings): SpanProcessor[] {
  return settings.exporters.map(
    (name) =>
      new RedactingSpanProcessor(
        new BatchSpanProcessor(name === 'console' ? new ConsoleSpanExporter() : otlpExporter(settings.protocol)),
      ),
  );
}

/** Fans one span out to several processors (OTEL_TRACES_EXPORTER may list more than one exporter). */
class FanOutProcessor implements SpanProcessor {
  constructor(private readonly all: SpanProcessor[]) {}
  onStart(span: Span, parent: otel.Context): void {
    for (const p of this.all) p.onStart(span, parent);
  }
  onEnd(span: ReadableSpan): void {
    for (const p of this.all) p.onEnd(span);
  }
  async forceFlush(): Promise<void> {
    await Promise.all(this.all.map((p) => p.forceFlush()));
  }
  async shutdown(): Promise<void> {
    await Promise.all(this.all.map((p) => p.shutdown()));
  }
}

/** Names each vendor API call's span after the vendor and endpoint; undici's own HTTP span sits below it. */
function installVendorSpans(): void {
  const tracer = otel.trace.getTracer('exportflow');
  setVendorSpanner((info, fn) =>
    tracer.startActiveSpan(
      `${info.vendor} ${info.endpoint}`,
      {
        kind: otel.SpanKind.INTERNAL,
        attributes: {
          'exportflow.vendor': info.vendor,
          'exportflow.endpoint': info.endpoint,
          'exportflow.account': info.account,
        },
      },
      async (span) => {
        try {
          const answer = await fn();
          span.setAttribute('http.response.status_code', answer.status);
          return answer;
        } catch (err) {
          const e = err as Error;
          span.recordException(e);
          span.setStatus({ code: otel.SpanStatusCode.ERROR, message: e.message });
          throw err;
        } finally {
          span.end();
        }
      },
    ),
  );
}

/** Starts tracing for this process: call it only when no tracer provider is registered yet (see ./index.ts). */
export function startTracing(settings: TracingSettings): Tracing {
  const resource = Resource.default()
    .merge(new Resource({ [ATTR_SERVICE_NAME]: 'exportflow', [ATTR_SERVICE_VERSION]: version }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the defaults above.
    .merge(envDetectorSync.detect());
  const spanProcessor = new FanOutProcessor(exporterProcessors(settings));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // With an AsyncLocalStorage context manager, so an activity's span is the parent of the HTTP calls it makes.
  provider.register({ propagator: new W3CTraceContextPropagator() });
  const instrumentations = registerInstrumentations({
    instrumentations: [new UndiciInstrumentation({ requireParentforSpans: true })],
  });
  installVendorSpans();
  return {
    spanProcessor,
    resource,
    async shutdown() {
      instrumentations();
      setVendorSpanner(null);
      await provider.shutdown();
    },
  };
}
