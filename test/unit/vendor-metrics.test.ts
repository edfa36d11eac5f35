import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import { METRIC_NAMES, installVendorMetrics, statusClass } from '../../src/telemetry/vendor-metrics';
import { callVendor } from '../../src/providers/http';
import { observeHttp, setVendorObserver } from '../../src/providers/observe';

/** A meter that keeps every recorded value with its labels, by metric name. */
function recordingMeter() {
  const seen = new Map<string, { value: number; tags: MetricTags }[]>();
  const instrument = (name: string) => {
    const rec = (value: number, tags: MetricTags = {}) => {
      const list = seen.get(name) ?? [];
      list.push({ value, tags });
      seen.set(name, list);
    };
    return { add: rec, record: rec, set: rec, name, unit: '', description: '', kind: 'counter', valueType: 'int' };
  };
  const meter = {
    createCounter: instrument,
    createHistogram: instrument,
    createGauge: instrument,
    createUpDownCounter: instrument,
    withTags: () => meter,
  } as unknown as MetricMeter;
  return { meter, seen };
}

describe('vendor call metrics', () => {
  const { meter, seen } = recordingMeter();
  let answers = [429, 200];
  const server = createServer((req, res) => {
    req.resume();
    const status = answers.shift() ?? 200;
    res.writeHead(status, status === 429 ? { 'retry-after': '1' } : {}).end(status === 429 ? 'slow down' : '{}');
  });
  let url = '';

  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    installVendorMetrics(meter);
  });
  after(() => {
    setVendorObserver(null);
    server.close();
  });

  test('a 429 counts once per vendor and account; every call lands in the latency histogram', async () => {
    answers = [429, 200];
    const call = { vendor: 'mytracker' as const, endpoint: 'export/get', method: 'GET' as const, url };
    await assert.rejects(callVendor(call), /refuses calls over the vendor's quota until .* \(HTTP 429, Retry-After\)/);
    await callVendor({ ...call, account: 'eu' });
    assert.deepEqual(seen.get(METRIC_NAMES.rateLimited), [
      { value: 1, tags: { vendor: 'mytracker', account: 'default' } },
    ]);
    const latency = seen.get(METRIC_NAMES.callDuration) ?? [];
    assert.deepEqual(
      latency.map((l) => l.tags),
      [
        { vendor: 'mytracker', account: 'default', endpoint: 'export/get', status_class: '4xx' },
        { vendor: 'mytracker', account: 'eu', endpoint: 'export/get', status_class: '2xx' },
      ],
    );
    for (const l of latency) assert.ok(l.value > 0 && l.value < 10_000, `latency ${l.value} ms`);
  });

  test('a 429 on a download (reported without an account) counts for the default account', () => {
    const before = seen.get(METRIC_NAMES.rateLimited)?.length ?? 0;
    observeHttp('altcraft', 'download', 429);
    observeHttp('altcraft', 'download', 200);
    assert.deepEqual(seen.get(METRIC_NAMES.rateLimited)?.slice(before), [
      { value: 1, tags: { vendor: 'altcraft', account: 'default' } },
    ]);
  });

  test('a call with no answer is timed with status class "none"', async () => {
    const before = seen.get(METRIC_NAMES.callDuration)?.length ?? 0;
    await assert.rejects(
      callVendor({ vendor: 'altcraft', endpoint: 'tasks/status', method: 'POST', url: 'http://127.0.0.1:1/x' }),
    );
    const after = seen.get(METRIC_NAMES.callDuration) ?? [];
    assert.equal(after.length, before + 1);
    assert.equal(after.at(-1)!.tags.status_class, 'none');
    assert.equal(statusClass(503), '5xx');
  });
});
