import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { statusError } from '../../src/providers/http';
import { quotaResetOf } from '../../src/providers/quota-reset';
import { accountsIn, parseQuota, quotaFor, readQuotas, sustainedRate } from '../../src/quota/config';
import { accountOf } from '../../src/shared/accounts';
import { applyVendorQueueConfigs, vendorQueueConfigs } from '../../src/quota/task-queue-config';
import { startSimulator } from '../../src/simulator';
import { describeStatus } from '../../src/cli/progress';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

const NOW = Date.parse('2026-12-06T14:00:00Z');

describe('quota blocks: when a 429 says the quota resets', () => {
  test('myTracker body: resetInSecond, else resetTime; the latest exceeded quota wins', () => {
    const body = (quotas: object[]) => JSON.stringify({ code: 429, data: { error: { info: { quotas } } } });
    assert.deepEqual(quotaResetOf({}, body([{ name: 'RequestsByUserPerMinute', resetInSecond: 75 }]), NOW), {
      resetAt: NOW + 75_000,
      source: 'resetInSecond of RequestsByUserPerMinute',
    });
    assert.equal(quotaResetOf({}, body([{ resetTime: NOW / 1000 + 300 }]), NOW)?.resetAt, NOW + 300_000);
    const two = body([
      { name: 'PerSecond', resetInSecond: 1, exceeded: true },
      { name: 'PerHour', resetInSecond: 1800, exceeded: true },
      { name: 'PerMinute', resetInSecond: 50, exceeded: false },
    ]);
    assert.equal(quotaResetOf({}, two, NOW)?.resetAt, NOW + 1_800_000);
    // Numbers as strings are read too.
    assert.equal(quotaResetOf({}, body([{ resetInSecond: '30' }]), NOW)?.resetAt, NOW + 30_000);
  });

  test('Retry-After seconds and HTTP date; reset headers as seconds or unix time; none → undefined', () => {
    assert.equal(quotaResetOf({ 'retry-after': '120' }, '', NOW)?.resetAt, NOW + 120_000);
    assert.equal(quotaResetOf({ 'retry-after': 'Sun, 06 Dec 2026 14:03:00 GMT' }, '', NOW)?.resetAt, NOW + 180_000);
    assert.equal(quotaResetOf({ 'x-ratelimit-reset': '42' }, '', NOW)?.resetAt, NOW + 42_000);
    assert.equal(quotaResetOf({ 'ratelimit-reset': String(NOW / 1000 + 60) }, '', NOW)?.resetAt, NOW + 60_000);
    assert.equal(quotaResetOf({}, '{"code":429,"message":"Too Many Requests"}', NOW), undefined);
    assert.equal(quotaResetOf({ 'retry-after': 'soon' }, '<html>', NOW), undefined);
    // A reset in the past means now; a hostile one is capped at a day.
    assert.equal(quotaResetOf({ 'retry-after': '0' }, '', NOW)?.resetAt, NOW);
    assert.equal(quotaResetOf({ 'retry-after': '99999999' }, '', NOW)?.resetAt, NOW + 86_400_000);
  });

  test('statusError: an API 429 with a reset is a final VendorRateLimited with resetAt; without one it is retried', () => {
    const text = JSON.stringify({ data: { error: { info: { quotas: [{ resetInSecond: 75, exceeded: true }] } } } });
    const block = statusError('mytracker', 'get.json', { status: 429, headers: {}, text });
    assert.equal(block.type, FAILURE_TYPES.rateLimited);
    assert.equal(block.retryable, false);
    assert.ok(block.details.resetAt! >= Date.now() + 70_000 && block.details.resetAt! <= Date.now() + 76_000);
    assert.match(block.message, /refuses calls over the vendor's quota until .*resetInSecond/);
    const plain = statusError('mytracker', 'get.json', { status: 429, headers: {}, text: '' });
    assert.equal(plain.retryable, true);
    assert.equal(plain.details.resetAt, undefined);
    // A storage download waits for its next attempt instead (the workflow does not wrap downloads).
    const download = statusError('mytracker', 'download', { status: 429, headers: { 'retry-after': '30' }, text: '' });
    assert.equal(download.retryable, true);
    assert.ok(download.details.retryAfterMs! > 25_000 && download.details.retryAfterMs! <= 30_000);
  });
});

describe('quota configuration', () => {
  test('the format: windows in any order, units s/min/h/d; bad text names the variable', () => {
    assert.deepEqual(parseQuota('X', '1000/h, 10/s,100/min').windows, [
      { limit: 10, seconds: 1 },
      { limit: 100, seconds: 60 },
      { limit: 1000, seconds: 3600 },
    ]);
    assert.throws(
      () => parseQuota('EXPORTFLOW_QUOTA_MYTRACKER', '10 per second'),
      /^Error: EXPORTFLOW_QUOTA_MYTRACKER: "10 per second" is not a quota .*expected e\.g\. 10\/s,100\/min,1000\/h/,
    );
    assert.throws(() => parseQuota('Q', '10/fortnight'), /unknown unit "fortnight"/);
    assert.throws(() => parseQuota('Q', '0/s'), /at least 1 call/);
    assert.throws(() => parseQuota('Q', '10/s,20/sec'), /same window twice/);
    assert.throws(() => parseQuota('Q', ''), /at least one window/);
  });

  test('per account, then the vendor variable, then the documented default', () => {
    const env = { EXPORTFLOW_QUOTA_MYTRACKER__EU: '5/s,50/min', EXPORTFLOW_QUOTA_APSIS: '2/s' };
    assert.equal(quotaFor('mytracker', 'eu', env).text, '5/s,50/min');
    assert.equal(quotaFor('mytracker', 'default', env).text, '10/s,100/min,1000/h');
    assert.equal(quotaFor('apsis', 'us', env).text, '2/s');
    assert.equal(quotaFor('altcraft', 'default', env).text, '5/s,300/min');
    assert.throws(() => readQuotas({ EXPORTFLOW_QUOTA_ALTCRAFT__EU: 'lots' }), /EXPORTFLOW_QUOTA_ALTCRAFT__EU/);
  });

  test('accounts are found from the vendor variables and quota variables', () => {
    const env = { MYTRACKER_API_SECRET__EU_FILE: '/run/s', MYTRACKER_API_USER_ID__US: '1', ALTCRAFT_TOKEN__X: 't' };
    assert.deepEqual(accountsIn('mytracker', env), ['default', 'eu', 'us']);
    assert.deepEqual(accountsIn('apsis', env), ['default']);
    assert.equal(accountOf({}), 'default');
    assert.equal(accountOf({ account: 'eu' }), 'eu');
  });

  test('the sustained rate keeps every window with a burst of 4 on top', () => {
    const mt = sustainedRate(parseQuota('Q', '10/s,100/min,1000/h'));
    assert.ok(mt <= (1000 - 4) / 3600 && mt > 0.24, String(mt));
    for (const text of ['10/s,100/min,1000/h', '5/s,300/min', '1/s,60/min', '3/s']) {
      const q = parseQuota('Q', text);
      const r = sustainedRate(q);
      for (const w of q.windows) {
        const allowed = w.limit > 8 ? w.limit - 4 : w.limit / 2;
        assert.ok(r * w.seconds <= allowed, `${text}: ${r}/s over ${w.seconds}s`);
      }
    }
  });
});

describe('the simulator plays APSIS limits when asked', () => {
  test('1 profile export a second per account: the second report request in a second is 429 with Retry-After', async () => {
    const sim = await startSimulator({ apsis: { profileExportsPerSecond: 1, exportDownloadsPerMinute: 60 } });
    try {
      const token = (await fetch(`${sim.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_id: sim.apsis.config.clientId,
          client_secret: sim.apsis.config.clientSecret,
        }),
      }).then((r) => r.json())) as { access_token: string };
      await new Promise((r) => setTimeout(r, 1010 - (Date.now() % 1000)));
      const request = () =>
        fetch(`${sim.url}/audience/profiles/reports/segments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
          body: '{}',
        });
      const first = await request();
      const second = await request();
      assert.notEqual(first.status, 429);
      assert.equal(second.status, 429);
      assert.equal(second.headers.get('retry-after'), '1');
      const figures = (await fetch(`${sim.url}/__sim/quotas`).then((r) => r.json())) as {
        apsis: { profileExports: Record<string, { accepted: number; refused: number }> };
      };
      assert.deepEqual(
        Object.values(figures.apsis.profileExports).map((u) => [u.accepted, u.refused]),
        [[1, 1]],
      );
    } finally {
      await sim.close();
    }
  });
});

describe('status line during a quota wait', () => {
  test('any phase shows the wait, e.g. a block on the create call', () => {
    const progress = {
      provider: 'mytracker',
      phase: 'creating',
      remoteId: null,
      attempts: 0,
      vendorPercent: null,
      vendorStatus: "waiting for the vendor's quota until 14:03 UTC",
      polls: 0,
      filesTotal: null,
      filesDone: 0,
      bytesDone: 0,
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      error: null,
      warning: null,
    } as const;
    const status = { workflowId: 'w', execution: 'RUNNING', progress, inFlightBytes: 0, manifest: null, error: null };
    assert.match(
      describeStatus(status as unknown as Parameters<typeof describeStatus>[0]),
      /requesting the export from the vendor \(attempt 1\) · waiting for the vendor's quota until 14:03 UTC/,
    );
    const waiting = { ...status, progress: { ...progress, phase: 'waiting', remoteId: '7' } };
    assert.match(
      describeStatus(waiting as unknown as Parameters<typeof describeStatus>[0]),
      /vendor job 7: waiting for the vendor's quota until 14:03 UTC/,
    );
  });
});

describe('task queue config for the vendor quotas', () => {
  const queueOf = (v: string) => `q-${v}`;

  test('per vendor: queue rate = sum of accounts, key rate = default account, weights for different quotas', () => {
    const quotas = readQuotas({
      MYTRACKER_API_USER_ID__EU: '2',
      EXPORTFLOW_QUOTA_MYTRACKER__BIG: '100/s,1000/min,10000/h',
    });
    const mt = vendorQueueConfigs(queueOf, quotas).find((c) => c.vendor === 'mytracker')!;
    assert.equal(mt.taskQueue, 'q-mytracker');
    assert.deepEqual(Object.keys(mt.accounts), ['big', 'default', 'eu']);
    assert.equal(mt.keyRps, mt.accounts.default!.rps);
    assert.equal(mt.accounts.eu!.rps, mt.keyRps);
    assert.ok(mt.weights.big! > 9 && mt.weights.big! < 11, JSON.stringify(mt.weights));
    assert.equal(mt.weights.default, undefined);
    assert.ok(Math.abs(mt.queueRps - (mt.accounts.big!.rps + 2 * mt.keyRps)) < 0.001);
  });

  test('applied through UpdateTaskQueueConfig; an old server or a refused call is reported, not thrown', async () => {
    const requests: unknown[] = [];
    const configs = vendorQueueConfigs(queueOf, readQuotas({}));
    const ok = await applyVendorQueueConfigs(
      {
        getSystemInfo: async () => ({ serverVersion: '1.32.0' }),
        updateTaskQueueConfig: async (req) => {
          requests.push(req);
          return {};
        },
      },
      'ns',
      configs,
    );
    assert.deepEqual(ok.missing, []);
    assert.equal(ok.applied.length, 3);
    const first = requests[0] as {
      namespace: string;
      taskQueue: string;
      taskQueueType: number;
      updateQueueRateLimit: { rateLimit: { requestsPerSecond: number } };
      updateFairnessKeyRateLimitDefault: { rateLimit: { requestsPerSecond: number } };
    };
    assert.equal(first.namespace, 'ns');
    assert.equal(first.taskQueue, 'q-altcraft');
    assert.equal(first.taskQueueType, 2); // TASK_QUEUE_TYPE_ACTIVITY
    assert.equal(first.updateFairnessKeyRateLimitDefault.rateLimit.requestsPerSecond, 2.25);

    const old = await applyVendorQueueConfigs(
      {
        getSystemInfo: async () => ({ serverVersion: '1.27.2' }),
        updateTaskQueueConfig: async () => {
          throw new Error('12 UNIMPLEMENTED: unknown method UpdateTaskQueueConfig');
        },
      },
      'ns',
      configs,
    );
    assert.equal(old.applied.length, 0);
    assert.match(old.missing[0]!, /1\.27\.2 is older than 1\.31: .*matching\.useNewMatcher/);
    assert.match(old.missing[1]!, /could not set the rate limits of task queue q-altcraft \(12 UNIMPLEMENTED/);
  });
});
