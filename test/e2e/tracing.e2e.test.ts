import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Simulator } from '../../src/simulator';
import {
  jaegerBinary,
  readTrace,
  startJaeger,
  type Jaeger,
  type JaegerSpan,
  type JaegerTrace,
} from '../helpers/jaeger';
import { runCli, waitFor } from '../helpers/processes';
import { startStack, type TestStack } from '../helpers/stack';
import { freePort } from '../helpers/temporal';

/**
 * Traces from the caller to the vendor, read back from a real Jaeger: a cron job's trace (TRACEPARENT) holds the
 * CLI's start, the workflow run, each activity and each vendor HTTP call in one tree, over the three OTLP
 * transports (worker: HTTP/protobuf, CLI: gRPC, a second CLI run: HTTP/JSON), with no credential in any span.
 */
const bin = jaegerBinary();

const hex = (bytes: number) => crypto.randomBytes(bytes).toString('hex');
const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;

describe('tracing to Jaeger', { skip: bin ? false : 'no Jaeger binary and no Go to build one' }, () => {
  let jaeger: Jaeger;
  let stack: TestStack;
  let sim: Simulator;
  let env: Record<string, string>;
  let metricsUrl: string;

  before(async () => {
    jaeger = await startJaeger(bin!);
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    stack = await startStack('tracing', {
      // Downloads only with `?token=`: the API token is then in a URL the HTTP spans see. A 4 s task makes the
      // first status polls answer "running", so the workflow sleeps between polls (the `wait vendor job` span).
      sim: { altcraft: { taskDurationMs: 4_000, downloadAuth: 'query' } },
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpHttp,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_SERVICE_NAME: 'exportflow-worker',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
      },
    });
    ({ sim, env } = stack);
  });

  after(async () => {
    await stack?.stop();
    await jaeger?.stop();
  });

  let workflowId = '';

  test('one export: caller → CLI → workflow → activities → vendor HTTP in one tree, nothing secret in it', async () => {
    const traceId = hex(16);
    const callerSpanId = hex(8);
    // One 429 on a status poll, with Retry-After: a quota block the workflow waits out on a timer (the `wait quota`
    // span), and a count in the metrics test below.
    sim.faults.add({
      vendor: 'altcraft',
      endpoint: 'status',
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '1' },
    });
    const res = await runCli(
      ['export', 'altcraft', '--source-type', 'database', '--source-id', '41', '--wait', '--json'],
      {
        ...env,
        TRACEPARENT: `00-${traceId}-${callerSpanId}-01`,
        OTEL_EXPORTER_OTLP_ENDPOINT: jaeger.otlpGrpc,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_SERVICE_NAME: 'exportflow-cli',
      },
    );
    assert.equal(res.code, 0, res.stderr);
    workflowId = JSON.parse(res.stdout).workflowId as string;

    const names = (t: JaegerTrace) => new Set(t.spans.map((s) => s.operationName));
    const expected = [
      'StartWorkflow:altcraftExport',
      'RunWorkflow:altcraftExport',
      'StartActivity:altcraftCreateExport',
      'RunActivity:altcraftCreateExport',
      'RunActivity:altcraftTaskStatus',
      'RunActivity:altcraftDownload',
      'altcraft profiles/get_all',
      'altcraft tasks/status',
      'wait quota',
      'POST',
      'GET',
    ];
    let trace: JaegerTrace | undefined;
    try {
      trace = await waitFor(
        'Jaeger to hold the whole export trace',
        async () => {
          const t = await readTrace(jaeger, traceId);
          return t && expected.every((n) => names(t).has(n)) ? t : undefined;
        },
        30_000,
        250,
      );
    } catch (err) {
      const t = await readTrace(jaeger, traceId);
      throw new Error(`${(err as Error).message}; spans so far: ${t ? [...names(t)].join(', ') : 'none'}`);
    }
    const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
    const one = (name: string) => trace.spans.find((s) => s.operationName === name)!;
    const parentOf = (s: JaegerSpan) => s.references.find((r) => r.refType === 'CHILD_OF');
    // One tree: every span's parent is in the trace, except the CLI's own calls (start, then describe/query while
    // it waits), whose parent is the caller's span.
    const service = (span: JaegerSpan) => trace.processes[span.processID]?.serviceName;
    for (const span of trace.spans) {
      const parent = parentOf(span);
      assert.ok(parent, `${span.operationName} has a parent`);
      assert.equal(parent.traceID, traceId);
      if (byId.has(parent.spanID)) continue;
      assert.equal(parent.spanID, callerSpanId, `${span.operationName}'s parent is in the trace or is the caller`);
      assert.equal(service(span), 'exportflow-cli', `${span.operationName} under the caller is the CLI's`);
    }
    assert.equal(parentOf(one('StartWorkflow:altcraftExport'))?.spanID, callerSpanId);
    const chain = (span: JaegerSpan) => {
      const names: string[] = [];
      for (let s: JaegerSpan | undefined = span; s; s = byId.get(parentOf(s)?.spanID ?? ''))
        names.push(s.operationName);
      return names;
    };
    const httpUnderCreate = trace.spans.find(
      (s) => s.operationName === 'POST' && byId.get(parentOf(s)!.spanID)?.operationName === 'altcraft profiles/get_all',
    );
    assert.ok(httpUnderCreate, 'the create call has its HTTP span');
    assert.deepEqual(chain(httpUnderCreate), [
      'POST',
      'altcraft profiles/get_all',
      'RunActivity:altcraftCreateExport',
      'StartActivity:altcraftCreateExport',
      'RunWorkflow:altcraftExport',
      'StartWorkflow:altcraftExport',
    ]);
    assert.equal(byId.get(parentOf(one('wait quota'))!.spanID)?.operationName, 'RunWorkflow:altcraftExport');
    assert.equal(tag(one('wait quota'), 'exportflow.vendor'), 'altcraft');
    const services = new Set(Object.values(trace.processes).map((p) => p.serviceName));
    assert.deepEqual([...services].sort(), ['exportflow-cli', 'exportflow-worker']);
    assert.equal(tag(one('altcraft profiles/get_all'), 'exportflow.account'), 'default');

    // Redaction: the token went in `?token=` on the download and in the API bodies; neither shows anywhere.
    const text = JSON.stringify(trace);
    assert.equal(text.includes(sim.credentials.altcraftToken), false, 'the Altcraft token is in no span');
    const downloads = trace.spans.filter((s) => String(tag(s, 'url.full') ?? '').includes('token='));
    assert.ok(downloads.length >= 1, 'the query-token download is traced');
    for (const d of downloads) assert.match(String(tag(d, 'url.full')), /[?&]token=REDACTED(&|$)/);
    assert.ok(
      trace.spans.some((s) => s.operationName === 'GET' && tag(s, 'http.response.status_code') === 401),
      'the refused bearer attempt before the query form is traced too',
    );
  });

  test('a second export on the same worker (its workflow sandbox reused) is traced the same way', async () => {
    const traceId = hex(16);
    const res = await runCli(['export', 'altcraft', '--source-type', 'segment', '--source-id', '43', '--wait'], {
      ...env,
      TRACEPARENT: `00-${traceId}-${hex(8)}-01`,
      OTEL_SERVICE_NAME: 'exportflow-cli',
    });
    assert.equal(res.code, 0, res.stderr);
    const trace = await waitFor(
      'Jaeger to hold the second export',
      async () => {
        const t = await readTrace(jaeger, traceId);
        const names = new Set(t?.spans.map((s) => s.operationName));
        return names.has('RunActivity:altcraftDownload') && names.has('wait vendor job') ? t : undefined;
      },
      30_000,
      250,
    );
    const byId = new Map(trace.spans.map((s) => [s.spanID, s]));
    const parentName = (name: string) =>
      byId.get(trace.spans.find((s) => s.operationName === name)!.references[0]!.spanID)?.operationName;
    assert.equal(parentName('StartActivity:altcraftCreateExport'), 'RunWorkflow:altcraftExport');
    assert.equal(parentName('wait vendor job'), 'RunWorkflow:altcraftExport');
    assert.equal(parentName('RunWorkflow:altcraftExport'), 'StartWorkflow:altcraftExport');
  });

  test('a CLI that exports no spans itself (OTEL off) still hands TRACEPARENT on to the workflow', async () => {
    const traceId = hex(16);
    const callerSpanId = hex(8);
    const res = await runCli(['export', 'altcraft', '--source-type', 'segment', '--source-id', '44', '--wait'], {
      ...env,
      TRACEPARENT: `00-${traceId}-${callerSpanId}-01`,
      OTEL_SDK_DISABLED: 'true',
    });
    assert.equal(res.code, 0, res.stderr);
    const trace = await waitFor(
      'Jaeger to hold the worker side of the export',
      async () => {
        const t = await readTrace(jaeger, traceId);
        return t?.spans.some((s) => s.operationName === 'RunWorkflow:altcraftExport') ? t : undefined;
      },
      30_000,
      250,
    );
    const run = trace.spans.find((s) => s.operationName === 'RunWorkflow:altcraftExport')!;
    assert.equal(run.references[0]?.spanID, callerSpanId, "the workflow's parent is the caller's span");
    assert.deepEqual([...new Set(Object.values(trace.processes).map((p) => p.serviceName))], ['exportflow-worker']);
  });

  test('the CLI over OTLP HTTP/JSON: a status call joins its caller trace', async () => {
    assert.ok(workflowId, 'the export test ran first');
    const traceId = hex(16);
    const callerSpanId = hex(8);
    const res = await runCli(['status', workflowId, '--json'], {
      ...env,
      TRACEPARENT: `00-${traceId}-${callerSpanId}-01`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'exportflow-cli-json',
    });
    assert.equal(res.code, 0, res.stderr);
    const trace = await waitFor('Jaeger to hold the status call', () => readTrace(jaeger, traceId), 20_000, 250);
    const top = trace.spans.filter((s) => s.references.some((r) => r.spanID === callerSpanId));
    assert.ok(top.length >= 1, `spans: ${trace.spans.map((s) => s.operationName).join(', ')}`);
    assert.deepEqual([...new Set(Object.values(trace.processes).map((p) => p.serviceName))], ['exportflow-cli-json']);
  });

  test('Prometheus: vendor call latency per vendor, account and endpoint, and the 429 counted', async () => {
    const text = await (await fetch(metricsUrl)).text();
    const ours = text
      .split('\n')
      .filter((l) => l.startsWith('exportflow_vendor_'))
      .join('\n');
    assert.match(
      ours,
      /^exportflow_vendor_rate_limited_total\{[^}]*account="default"[^}]*vendor="altcraft"[^}]*\} 1$/m,
      ours,
    );
    const count = ours.match(
      /^exportflow_vendor_call_duration_count\{(?=[^}]*account="default")(?=[^}]*endpoint="profiles\/get_all")(?=[^}]*vendor="altcraft")[^}]*\} (\d+)$/m,
    );
    assert.ok(count && Number(count[1]) >= 1, ours);
    assert.match(ours, /^exportflow_vendor_call_duration_bucket\{[^}]*le="60000"[^}]*\} \d+$/m, 'our buckets');
    assert.equal(text.includes(sim.credentials.altcraftToken), false);
  });

  test('a malformed TRACEPARENT is refused before anything starts (exit 2, naming it)', async () => {
    const res = await runCli(['export', 'altcraft', '--source-type', 'database', '--source-id', '42'], {
      ...env,
      TRACEPARENT: 'not-a-trace',
    });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /TRACEPARENT: expected a W3C traceparent/);
  });
});
