import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, tempDir, waitFor } from './processes';
import { freePort } from './temporal';

/**
 * A real Jaeger (v2, the all-in-one binary scripts/ensure-jaeger builds from its Go module) on free 127.0.0.1
 * ports: OTLP over gRPC and HTTP in, traces in memory, the query API out. Its default configuration would take
 * fixed ports (4317, 4318, 16686 and more), so it gets a small one of its own.
 */
export interface Jaeger {
  otlpHttp: string;
  otlpGrpc: string;
  /** Base of the query API, e.g. http://127.0.0.1:PORT (GET /api/traces/<traceId>). */
  query: string;
  stop(): Promise<void>;
}

/** JAEGER_PATH (scripts/test sets it), or what scripts/ensure-jaeger finds or builds; undefined without Go. */
export function jaegerBinary(): string | undefined {
  if (process.env.JAEGER_PATH) return process.env.JAEGER_PATH;
  try {
    return execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'ensure-jaeger')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  } catch {
    return undefined;
  }
}

export async function startJaeger(bin: string): Promise<Jaeger> {
  const [grpc, http, query, queryGrpc] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dir = tempDir('jaeger');
  const config = path.join(dir, 'jaeger.yaml');
  fs.writeFileSync(
    config,
    `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${query}
    grpc:
      endpoint: 127.0.0.1:${queryGrpc}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:${grpc}
      http:
        endpoint: 127.0.0.1:${http}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`,
  );
  const log = fs.openSync(path.join(dir, 'jaeger.log'), 'a');
  const child: ChildProcess = spawn(bin, ['--config', config], { stdio: ['ignore', log, log] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const base = `http://127.0.0.1:${query}`;
  try {
    await waitFor(
      'Jaeger to answer its query API',
      async () => {
        if (child.exitCode !== null) {
          throw new Error(`jaeger exited ${child.exitCode}: ${fs.readFileSync(path.join(dir, 'jaeger.log'), 'utf8')}`);
        }
        const res = await fetch(`${base}/api/services`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      60_000,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    otlpHttp: `http://127.0.0.1:${http}`,
    otlpGrpc: `http://127.0.0.1:${grpc}`,
    query: base,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      fs.closeSync(log);
    },
  };
}

/** One span as Jaeger's query API (v1 JSON) returns it. */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  tags: { key: string; type: string; value: unknown }[];
  processID: string;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

/** GET /api/traces/<id>; undefined while Jaeger has none of it. */
export async function readTrace(jaeger: Jaeger, traceId: string): Promise<JaegerTrace | undefined> {
  const res = await fetch(`${jaeger.query}/api/traces/${traceId}`);
  if (!res.ok) return undefined;
  const body = (await res.json()) as { data?: JaegerTrace[] };
  return body.data?.[0];
}
