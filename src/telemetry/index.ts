import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions';
import { hasCallerTraceContext, readTracingSettings } from './settings';
import type { Tracing } from './tracing';

/**
 * Tracing for exportflow's processes, off unless configured (./settings.ts). Nothing here loads OpenTelemetry
 * until it is needed: a CLI run or a worker without OTEL_* (and without TRACEPARENT) pays nothing for it.
 */

/* eslint-disable @typescript-eslint/no-require-imports -- OpenTelemetry is loaded only when tracing is on */
const lazy = {
  tracing: () => require('./tracing') as typeof import('./tracing'),
  api: () => require('@opentelemetry/api') as typeof import('@opentelemetry/api'),
  client: () =>
    require('@temporalio/interceptors-opentelemetry/lib/client') as typeof import('@temporalio/interceptors-opentelemetry/lib/client'),
  worker: () =>
    require('@temporalio/interceptors-opentelemetry/lib/worker') as typeof import('@temporalio/interceptors-opentelemetry/lib/worker'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * The workflow interceptors, inside every workflow bundle (scripts/bundle-workflows.ts, and the worker's own
 * bundling from sources): a span per workflow run, activity schedule, child workflow and signal, context carried
 * to activities in headers, and finished spans handed to the worker through the `exporter` sink. Replay-safe:
 * span ids come from the workflow's seeded random, and the sink is not called during replay.
 */
export const WORKFLOW_INTERCEPTOR_MODULES: string[] = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

let tracing: Tracing | null | undefined;
/** Set once the CLI runs inside a TRACEPARENT context (only the CLI reads TRACEPARENT, never a library user). */
let callerContextInstalled = false;

/**
 * True when something in this process (a host service's own OpenTelemetry SDK) registered a tracer provider.
 * Read from the API's global registry without loading the API.
 */
function hostTracerRegistered(): boolean {
  const registry = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[
    Symbol.for('opentelemetry.js.api.1')
  ];
  return registry?.trace !== undefined;
}

/**
 * Starts this process's tracing once, when OTEL_* asks for it and no host SDK is registered; null otherwise.
 * Throws ConfigError for a bad OTEL_* value.
 */
export function startProcessTracing(env: NodeJS.ProcessEnv = process.env): Tracing | null {
  if (tracing !== undefined) return tracing;
  const settings = readTracingSettings(env);
  tracing = settings && !hostTracerRegistered() ? lazy.tracing().startTracing(settings) : null;
  return tracing;
}

/** Sends the spans still queued and stops tracing (the CLI before it exits, the worker when it stops). */
export async function shutdownTracing(): Promise<void> {
  const current = tracing;
  tracing = undefined;
  // A collector that is down must not fail or hang the caller: the exporter's own timeout bounds this.
  await current?.shutdown().catch(() => undefined);
}

/**
 * The Temporal client interceptors: a span around each workflow start, signal, query, cancel…, whose context
 * travels to the workflow in the start headers. Used when this process traces, when a host service registered
 * its own OpenTelemetry SDK (its active context is then the parent), or when the CLI was given TRACEPARENT.
 */
export function clientTracingInterceptors(env: NodeJS.ProcessEnv = process.env): WorkflowClientInterceptor[] {
  const own = startProcessTracing(env);
  if (!own && !hostTracerRegistered() && !callerContextInstalled) return [];
  return [new (lazy.client().OpenTelemetryWorkflowClientInterceptor)()];
}

/** What each Worker.create gets: the activity interceptors and the sink receiving the workflows' spans. */
export interface WorkerTracing {
  activity: ActivityInterceptorsFactory[];
  sinks: InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }>;
}

/**
 * The worker's side. With tracing off the bundle's interceptors still make workflow spans; a sink that drops
 * them keeps the SDK from logging an unregistered sink at every workflow task.
 */
export function workerTracing(env: NodeJS.ProcessEnv = process.env): WorkerTracing {
  const own = startProcessTracing(env);
  if (!own) return { activity: [], sinks: workflowSpansDropped() };
  const otelWorker = lazy.worker();
  return {
    activity: [
      (ctx) => ({
        inbound: new otelWorker.OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new otelWorker.OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: { exporter: otelWorker.makeWorkflowExporter(own.spanProcessor, own.resource) },
  };
}

/** The `exporter` sink for workers and replayers that do not trace: workflow spans are dropped. */
export function workflowSpansDropped(): WorkerTracing['sinks'] {
  return { exporter: { export: { fn: () => undefined } } };
}

/**
 * Runs `body` inside the trace context a caller passed in TRACEPARENT (and TRACESTATE), the OpenTelemetry
 * convention for carrying context through environment variables; without TRACEPARENT it just runs `body`.
 */
export async function withCallerTraceContext<T>(
  body: () => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  if (!hasCallerTraceContext(env)) return body();
  const own = startProcessTracing(env);
  const api = lazy.api();
  if (!own && !hostTracerRegistered()) {
    // Not exporting spans of its own, the CLI still hands the caller's context on to the workflow it starts.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { AsyncLocalStorageContextManager } =
      require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
    const { W3CTraceContextPropagator } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
    /* eslint-enable @typescript-eslint/no-require-imports */
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  }
  callerContextInstalled = true;
  const carrier = { traceparent: env.TRACEPARENT!.trim(), tracestate: env.TRACESTATE?.trim() ?? '' };
  const parent = api.propagation.extract(api.ROOT_CONTEXT, carrier);
  return api.context.with(parent, body);
}
