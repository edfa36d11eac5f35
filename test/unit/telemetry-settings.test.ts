import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Attributes } from '@opentelemetry/api';
import { ConfigError } from '../../src/config';
import { REDACTED, redactAttributes, redactSpan, redactUrl, scrubText } from '../../src/telemetry/redact';
import { hasCallerTraceContext, readTracingSettings } from '../../src/telemetry/settings';

describe('tracing settings from OTEL_*', () => {
  test('off unless configured: no endpoint and no exporter named means no tracing', () => {
    assert.equal(readTracingSettings({}), null);
    assert.equal(readTracingSettings({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), null);
  });
  test('an OTLP endpoint turns tracing on, over http/protobuf unless a protocol is given', () => {
    assert.deepEqual(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), {
      exporters: ['otlp'],
      protocol: 'http/protobuf',
    });
    assert.deepEqual(
      readTracingSettings({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4317',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
      }),
      { exporters: ['otlp'], protocol: 'grpc' },
      'the traces-specific protocol wins',
    );
  });
  test('OTEL_TRACES_EXPORTER names exporters; none and OTEL_SDK_DISABLED keep tracing off', () => {
    assert.deepEqual(readTracingSettings({ OTEL_TRACES_EXPORTER: 'console' })?.exporters, ['console']);
    assert.deepEqual(readTracingSettings({ OTEL_TRACES_EXPORTER: 'otlp, console' })?.exporters, ['otlp', 'console']);
    assert.equal(
      readTracingSettings({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1' }),
      null,
    );
    assert.equal(readTracingSettings({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1' }), null);
  });
  test('a bad value is a ConfigError naming the variable and what was expected', () => {
    assert.throws(
      () => readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1', OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' }),
      (e: Error) =>
        e instanceof ConfigError && /OTEL_EXPORTER_OTLP_PROTOCOL.*http\/protobuf, http\/json, grpc/.test(e.message),
    );
    assert.throws(
      () => readTracingSettings({ OTEL_TRACES_EXPORTER: 'zipkin' }),
      (e: Error) => e instanceof ConfigError && /OTEL_TRACES_EXPORTER: unsupported exporter "zipkin"/.test(e.message),
    );
    assert.throws(
      () => readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost 4318' }),
      (e: Error) => e instanceof ConfigError && /OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/.test(e.message),
    );
  });
  test('TRACEPARENT: absent, valid, or a ConfigError (never a silently new trace)', () => {
    assert.equal(hasCallerTraceContext({}), false);
    assert.equal(
      hasCallerTraceContext({ TRACEPARENT: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }),
      true,
    );
    for (const bad of ['00-xyz-b7ad6b7169203331-01', '00-00000000000000000000000000000000-b7ad6b7169203331-01']) {
      assert.throws(
        () => hasCallerTraceContext({ TRACEPARENT: bad }),
        (e: Error) => e instanceof ConfigError && /TRACEPARENT: expected a W3C traceparent/.test(e.message),
      );
    }
  });
});

describe('span redaction', () => {
  test('a URL keeps scheme, host and path; query values, user info and fragment go', () => {
    assert.equal(
      redactUrl('https://panel.example/api/download/x.csv?token=s3cr3t&part=2'),
      `https://panel.example/api/download/x.csv?token=${REDACTED}&part=${REDACTED}`,
    );
    const presigned =
      'https://bucket.s3.example/a/b.csv.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F2026&X-Amz-Signature=abcdef0123';
    const out = redactUrl(presigned);
    assert.doesNotMatch(out, /AKIA|abcdef0123/);
    assert.match(
      out,
      /^https:\/\/bucket\.s3\.example\/a\/b\.csv\.gz\?X-Amz-Algorithm=REDACTED&X-Amz-Credential=REDACTED/,
    );
    assert.equal(redactUrl('https://user:pw@h.example/p#frag'), 'https://h.example/p');
    assert.equal(redactUrl('/api/x?sig=1#f'), `/api/x?sig=${REDACTED}`);
    assert.equal(redactUrl('https://h.example/plain'), 'https://h.example/plain');
    assert.equal(
      redactUrl('https://rawdata.hb.bizmrg.com/segment/2022.06.15/16.1460.0cc175b9c0f1b6a831c399e269772661.csv.gz'),
      `https://rawdata.hb.bizmrg.com/segment/2022.06.15/16.1460.${REDACTED}.csv.gz`,
      'a capability link loses its hash',
    );
    assert.equal(
      redactUrl('http://127.0.0.1:8/api/v1.1/profiles/get_all'),
      'http://127.0.0.1:8/api/v1.1/profiles/get_all',
      'a readable API path stays',
    );
  });
  test('free text loses URL queries and Authorization values', () => {
    const text = scrubText('GET https://h.example/f?token=abc failed; sent Bearer abc.def and AuthHMAC 42:c2ln==');
    assert.doesNotMatch(text, /abc|c2ln/);
    assert.match(text, /Bearer REDACTED/);
    assert.match(text, /AuthHMAC REDACTED/);
  });
  test('attributes: secrets by name, URLs and queries by shape, structured values dropped', () => {
    const attrs: Record<string, unknown> = {
      'url.full': 'http://127.0.0.1:9/api/x?token=tok123',
      'url.path': '/segment/2022.06.15/16.1460.0cc175b9c0f1b6a831c399e269772661.csv.gz',
      'url.query': 'token=tok123&task_id=5',
      'http.target': '/api/x?token=tok123',
      'http.request.header.authorization': ['Bearer tok123'],
      'exportflow.vendor': 'altcraft',
      'http.response.status_code': 200,
      memo: { secret: 'tok123' },
      startTime: new Date(0),
    };
    // Instrumentations put values outside AttributeValue (objects, Dates) into attributes at run time; dropping
    // them is what this test checks, so the record is handed over as the Attributes it claims to be.
    redactAttributes(attrs as Attributes);
    assert.doesNotMatch(JSON.stringify(attrs), /tok123|0cc175b9/);
    assert.equal(attrs['exportflow.vendor'], 'altcraft');
    assert.equal(attrs['http.response.status_code'], 200);
    assert.equal(attrs['url.query'], `token=${REDACTED}&task_id=${REDACTED}`);
    assert.equal('memo' in attrs, false);
    assert.equal(attrs.startTime, '1970-01-01T00:00:00.000Z');
  });
  test('a span: its events and status message are redacted too', () => {
    const span = {
      attributes: {},
      events: [{ attributes: { 'exception.message': 'GET http://h/f?X-Amz-Signature=sig42 failed' } }],
      status: { message: 'refused https://h/f?token=tok42' },
    };
    redactSpan(span);
    assert.doesNotMatch(JSON.stringify(span), /sig42|tok42/);
  });
});
