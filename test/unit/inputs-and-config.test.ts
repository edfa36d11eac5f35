import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExportClient, InputError } from '../../src/client';
import { ConfigError, readConfig } from '../../src/config';

describe('export input validation (shared by CLI, client and workflows)', () => {
  test('a valid Altcraft input gets the csv default', () => {
    const parsed = ExportClient.validate('altcraft', { sourceType: 'segment', sourceId: 12 });
    assert.equal((parsed as { format?: string }).format, 'csv');
  });
  const bad: [unknown, RegExp][] = [
    [{ sourceType: 'segment' }, /sourceId: expected a positive integer/],
    [{ sourceType: 'table', sourceId: 1 }, /sourceType: expected "database" or "segment"/],
    [{ sourceType: 'database', sourceId: 0 }, /sourceId/],
    [{ sourceType: 'database', sourceId: 1.5 }, /sourceId/],
    [{ sourceType: 'database', sourceId: '1' }, /sourceId/],
    [{ sourceType: 'database', sourceId: 1, format: 'xlsx' }, /format/],
    [{ sourceType: 'database', sourceId: 1, filter: [] }, /filter: expected a JSON object/],
    [{ sourceType: 'database', sourceId: 1, filter: { a: { nested: true } } }, /filter\.a/],
    [{ sourceType: 'database', sourceId: 1, token: 'x' }, /Unrecognized key.*token/],
  ];
  for (const [input, message] of bad) {
    test(`rejects ${JSON.stringify(input)} naming the field`, () => {
      assert.throws(
        () => ExportClient.validate('altcraft', input),
        (err: unknown) => err instanceof InputError && message.test(err.message),
      );
    });
  }
});

describe('configuration from the environment', () => {
  test('defaults follow CONTRACT.md', () => {
    const c = readConfig({});
    assert.equal(c.temporal.address, '127.0.0.1:7233');
    assert.equal(c.temporal.namespace, 'default');
    assert.equal(c.taskQueue, 'exportflow');
    assert.equal(c.apsis.baseUrl, 'https://api.apsis.one');
    assert.equal(c.mytracker.baseUrl, 'https://tracker.my.com');
    assert.equal(c.callbacks.listen, '127.0.0.1:8787');
    assert.equal(c.callbacks.publicUrl, 'http://127.0.0.1:8787');
    assert.deepEqual([c.timing.pollInitialMs, c.timing.pollMaxMs, c.timing.maxWaitMs], [5_000, 300_000, 86_400_000]);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.metricsListen, undefined);
  });
  test('a bad variable is named in the error', () => {
    assert.throws(
      () => readConfig({ EXPORTFLOW_POLL_INITIAL: 'soon' }),
      (e: unknown) => e instanceof ConfigError && /EXPORTFLOW_POLL_INITIAL/.test(e.message),
    );
    assert.throws(() => readConfig({ TEMPORAL_ADDRESS: 'nohost' }), /TEMPORAL_ADDRESS/);
    assert.throws(() => readConfig({ ALTCRAFT_BASE_URL: 'not a url' }), /ALTCRAFT_BASE_URL/);
    assert.throws(() => readConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/);
    assert.throws(() => readConfig({ EXPORTFLOW_POLL_INITIAL: '10m', EXPORTFLOW_POLL_MAX: '1m' }), /must not exceed/);
  });
  test('a trailing slash on a base URL is dropped', () => {
    assert.equal(
      readConfig({ ALTCRAFT_BASE_URL: 'https://panel.example.com/' }).altcraft.baseUrl,
      'https://panel.example.com',
    );
  });
});
