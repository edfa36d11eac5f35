import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import * as otel from '@opentelemetry/api';
import { callVendor } from '../../src/providers/http';
import { shutdownTracing, startProcessTracing } from '../../src/telemetry';

/**
 * The whole export path of a span in one process: OTEL_* → the SDK → undici's instrumentation → redaction → an
 * OTLP/JSON collector on 127.0.0.1 (a stand-in that keeps what it receives). What must never leave: the token
 * in a query, a pre-signed link's signature, an Authorization header, a token in a JSON body.
 */
const SECRETS = ['tok-SECRET-1', 'sig-SECRET-2', 'cred-SECRET-3', 'bearer-SECRET-4', 'body-SECRET-5'];

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}

describe('spans leave the process redacted, through OTLP/JSON', () => {
  const received: string[] = [];
  const vendorHeaders: IncomingHttpHeaders[] = [];
  const collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const vendor = createServer((req, res) => {
    vendorHeaders.push(req.headers);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  let vendorUrl = '';

  before(async () => {
    const collectorUrl = await listen(collector);
    vendorUrl = await listen(vendor);
    // The OTLP exporter and the batch processor read these from the process environment, as in production.
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'exportflow-unit',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
  });

  after(async () => {
    await shutdownTracing();
    collector.close();
    vendor.close();
  });

  test('a vendor call is a span under the active one with its HTTP span below; no secret is in any span', async () => {
    assert.ok(startProcessTracing(), 'tracing starts from OTEL_EXPORTER_OTLP_ENDPOINT');
    const tracer = otel.trace.getTracer('test');
    let traceId = '';
    await tracer.startActiveSpan('activity', async (span) => {
      traceId = span.spanContext().traceId;
      await callVendor({
        vendor: 'altcraft',
        endpoint: 'tasks/status',
        method: 'POST',
        url: `${vendorUrl}/api/v1.1/tasks/status?token=${SECRETS[0]}&task_id=7`,
        headers: { authorization: `Bearer ${SECRETS[3]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ token: SECRETS[4], task_id: 7 }),
      });
      // A download of a pre-signed storage link (src/activities/download uses undici's request too).
      const res = await request(
        `${vendorUrl}/bucket/file.csv?X-Amz-Credential=${SECRETS[2]}&X-Amz-Signature=${SECRETS[1]}`,
      );
      await res.body.text();
      span.end();
    });
    await shutdownTracing();
    const all = received.join('\n');
    for (const secret of SECRETS) assert.equal(all.includes(secret), false, `${secret} reached the collector`);

    const spans: OtlpSpan[] = received.flatMap((body) =>
      (JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }).resourceSpans.flatMap((r) =>
        r.scopeSpans.flatMap((s) => s.spans),
      ),
    );
    const byName = (name: string) => spans.filter((s) => s.name === name);
    const attr = (s: OtlpSpan, key: string) => s.attributes.find((a) => a.key === key)?.value.stringValue;
    const activity = byName('activity')[0]!;
    const call = byName('altcraft tasks/status')[0]!;
    assert.ok(activity && call, `spans: ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(call.parentSpanId, activity.spanId);
    assert.equal(attr(call, 'exportflow.account'), 'default');
    const http = spans.filter((s) => s.traceId === traceId && s.name === 'POST');
    assert.equal(http.length, 1);
    assert.equal(http[0]!.parentSpanId, call.spanId, 'the HTTP span is the vendor call span’s child');
    assert.equal(attr(http[0]!, 'url.full'), `${vendorUrl}/api/v1.1/tasks/status?token=REDACTED&task_id=REDACTED`);
    const download = spans.find((s) => s.name === 'GET' && s.parentSpanId === activity.spanId);
    assert.ok(download, 'the storage download has its span');
    assert.match(
      attr(download, 'url.full') ?? '',
      /\/bucket\/file\.csv\?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED$/,
    );
    // W3C context went to the vendor with the request, naming this trace.
    assert.match(String(vendorHeaders[0]?.traceparent), new RegExp(`^00-${traceId}-`));
  });
});
