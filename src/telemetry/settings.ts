import { z } from 'zod';
import { ConfigError } from '../config';

/**
 * Whether and how exportflow exports traces, from the standard OpenTelemetry variables (docs/tracing.md). Tracing is
 * off unless configured: an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or an
 * explicit OTEL_TRACES_EXPORTER turns it on; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none keeps it off.
 * Everything else (headers, timeouts, sampler, resource attributes) the OpenTelemetry SDK reads itself.
 * Reading this module loads no OpenTelemetry code.
 */
export interface TracingSettings {
  exporters: TraceExporterName[];
  /** How spans travel to an OTLP endpoint. */
  protocol: OtlpProtocol;
}

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
const TRACE_EXPORTERS = ['otlp', 'console', 'none'] as const;
export type TraceExporterName = Exclude<(typeof TRACE_EXPORTERS)[number], 'none'>;

const blank = (v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim());

const endpoint = (name: string) =>
  z
    .string()
    .optional()
    .transform(blank)
    .pipe(z.url({ message: `${name} must be an http(s) URL, e.g. http://127.0.0.1:4318` }).optional());

const protocol = (name: string) =>
  z
    .string()
    .optional()
    .transform(blank)
    .pipe(z.enum(OTLP_PROTOCOLS, { message: `${name} must be one of ${OTLP_PROTOCOLS.join(', ')}` }).optional());

const OtelEnvSchema = z.object({
  OTEL_SDK_DISABLED: z
    .string()
    .optional()
    .transform((v) => blank(v)?.toLowerCase() === 'true'),
  OTEL_TRACES_EXPORTER: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const names = (blank(v) ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = names.filter((n) => !(TRACE_EXPORTERS as readonly string[]).includes(n));
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `OTEL_TRACES_EXPORTER: unsupported exporter ${bad.map((b) => `"${b}"`).join(', ')} (expected a list of ${TRACE_EXPORTERS.join(', ')})`,
        });
        return z.NEVER;
      }
      return names as (typeof TRACE_EXPORTERS)[number][];
    }),
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint('OTEL_EXPORTER_OTLP_ENDPOINT'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'),
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol('OTEL_EXPORTER_OTLP_PROTOCOL'),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'),
});

/** Reads the OTEL_* variables; null when tracing is off. Throws ConfigError naming a bad variable. */
export function readTracingSettings(env: NodeJS.ProcessEnv = process.env): TracingSettings | null {
  const parsed = OtelEnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.OTEL_SDK_DISABLED) return null;
  const listed = e.OTEL_TRACES_EXPORTER;
  const hasEndpoint = e.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined;
  // "none" wins over anything listed beside it, as in the SDK.
  if (listed.includes('none')) return null;
  const exporters: TraceExporterName[] =
    listed.length > 0 ? (listed as TraceExporterName[]) : hasEndpoint ? ['otlp'] : [];
  if (exporters.length === 0) return null;
  const proto = e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  return { exporters: [...new Set(exporters)], protocol: proto };
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * True when a caller passed a trace context through the environment (TRACEPARENT, the W3C header's value);
 * a malformed one is a ConfigError rather than a trace silently started afresh.
 */
export function hasCallerTraceContext(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = blank(env.TRACEPARENT);
  if (value === undefined) return false;
  if (!TRACEPARENT.test(value) || /^0+$/.test(value.split('-')[1]!) || /^0+$/.test(value.split('-')[2]!)) {
    throw new ConfigError(
      'invalid configuration:\n  TRACEPARENT: expected a W3C traceparent, ' +
        `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>, got "${value.slice(0, 80)}"`,
    );
  }
  return true;
}
