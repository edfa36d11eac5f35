import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ClassifiedError } from '../../src/providers/errors';
import { ApsisClient } from '../../src/providers/apsis/client';
import { ApsisTokenCache, type ApsisCredentials } from '../../src/providers/apsis/token';
import { startSimulator, type Simulator } from '../../src/simulator';
import { APSIS_DEFAULTS } from '../../src/simulator/apsis';

/** The OAuth token cache against the simulator's token endpoint, with a controllable clock. */
describe('APSIS OAuth token cache', () => {
  let sim: Simulator;
  let creds: ApsisCredentials;
  let clock: number;
  let cache: ApsisTokenCache;
  const tokenRequests = () => sim.count({ vendor: 'apsis', endpoint: 'token' });
  const report = { section_discriminator: 's', segments: { segment_discriminators: { a: 'a' }, filter: 'a' } };

  before(async () => {
    sim = await startSimulator({ apsis: { tokenTtlSec: 3600 } });
    creds = {
      baseUrl: sim.url,
      clientId: sim.credentials.apsisClientId,
      clientSecret: sim.credentials.apsisClientSecret,
    };
  });
  after(async () => sim.close());
  beforeEach(() => {
    sim.reset();
    Object.assign(sim.apsis.config, { ...APSIS_DEFAULTS, tokenTtlSec: 3600, tokenRequestsPerMinute: 1000 });
    clock = Date.now();
    cache = new ApsisTokenCache(() => clock);
  });

  test('one token serves every caller, including concurrent first callers', async () => {
    const tokens = await Promise.all(Array.from({ length: 8 }, () => cache.get(creds)));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(await cache.get(creds), tokens[0]);
    assert.equal(tokenRequests(), 1);
  });

  test('the token is replaced shortly before it expires (a tenth of its life, at most 5 minutes)', async () => {
    const first = await cache.get(creds);
    clock += 3600_000 - 361_000; // 6 min before expiry: still used
    assert.equal(await cache.get(creds), first);
    clock += 62_000; // under 5 min before expiry: refreshed
    const second = await cache.get(creds);
    assert.notEqual(second, first);
    assert.equal(tokenRequests(), 2);
  });

  test('given a 401 from the API, the client gets one new token and the call succeeds', async () => {
    const api = new ApsisClient(creds, cache);
    await api.requestSegmentReport(report);
    sim.apsis.expireTokens();
    const again = await api.requestSegmentReport(report);
    assert.ok(again.pollUrl.startsWith(sim.url));
    assert.equal(tokenRequests(), 2);
    assert.deepEqual(
      sim.requests.filter((r) => r.endpoint === 'segment-report').map((r) => r.status),
      [200, 401, 200],
    );
  });

  test('given a 401 that persists after the refresh, the second 401 is final (no loop)', async () => {
    const api = new ApsisClient(creds, cache);
    sim.faults.add({ vendor: 'apsis', endpoint: 'segment-report', kind: 'status', status: 401, times: 5 });
    await assert.rejects(api.requestSegmentReport(report), (err: unknown) => {
      return err instanceof ClassifiedError && err.type === 'VendorAuthError' && !err.retryable;
    });
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'segment-report' }), 2);
    assert.equal(tokenRequests(), 2);
  });

  test('given wrong client credentials, the token endpoint 401 is a final auth error naming the settings', async () => {
    const wrong = { ...creds, clientSecret: 'not-the-secret-x9' };
    await assert.rejects(cache.get(wrong), (err: unknown) => {
      assert.ok(err instanceof ClassifiedError);
      assert.equal(err.type, 'VendorAuthError');
      assert.equal(err.retryable, false);
      assert.match(
        err.message,
        /APSIS One oauth\/token refused the client credentials \(HTTP 401\); check APSIS_CLIENT_ID and APSIS_CLIENT_SECRET/,
      );
      assert.equal(err.message.includes('not-the-secret-x9'), false);
      return true;
    });
  });

  test('given the token endpoint limit (429 with Retry-After), the error is retryable and says why', async () => {
    sim.apsis.config.tokenRequestsPerMinute = 0;
    await assert.rejects(cache.get(creds), (err: unknown) => {
      assert.ok(err instanceof ClassifiedError);
      assert.equal(err.type, 'VendorRateLimited');
      assert.equal(err.retryable, true);
      assert.ok((err.details.retryAfterMs ?? 0) >= 1000);
      assert.match(err.message, /rate limiting token requests \(HTTP 429; APSIS allows about 10 a minute/);
      return true;
    });
  });

  test('given a malformed token answer, the error names the field but never quotes the token', async () => {
    sim.faults.add({
      vendor: 'apsis',
      endpoint: 'token',
      kind: 'json',
      body: { access_token: 'leaky-token-value', expires_in: 3600, token_type: 'mac' },
    });
    await assert.rejects(cache.get(creds), (err: unknown) => {
      assert.ok(err instanceof ClassifiedError);
      assert.equal(err.type, 'VendorResponseError');
      assert.match(err.message, /token_type/);
      assert.equal(err.message.includes('leaky-token-value'), false);
      return true;
    });
  });
});
