import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ClassifiedError } from '../../src/providers/errors';
import { ApsisClient } from '../../src/providers/apsis/client';
import { ApsisTokenCache, jwtExpiry, tokenLifetime, type ApsisCredentials } from '../../src/providers/apsis/token';
import { startSimulator, type Simulator } from '../../src/simulator';
import { APSIS_DEFAULTS, simJwt } from '../../src/simulator/apsis';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const jwt = (claims: unknown) => `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}.c2lnbmF0dXJl`;

describe('APSIS token lifetime', () => {
  const now = Date.UTC(2026, 0, 2, 3, 4, 5);
  const nowSec = now / 1000;

  test('the exp claim of a JWT is read without checking the signature; anything else is no exp', () => {
    assert.equal(jwtExpiry(jwt({ sub: 'client', exp: 1_800_000_000 })), 1_800_000_000);
    assert.equal(jwtExpiry(simJwt('client', 1_800_000_000_500)), 1_800_000_000);
    for (const notJwt of [
      'opaque-token',
      'a.b',
      jwt({ sub: 'no exp' }),
      jwt({ exp: '1800000000' }),
      jwt({ exp: -5 }),
      `${b64('{}')}.${b64('not json')}.sig`,
      `${b64('{}')}.!!.sig`,
      `${b64('{}')}.${b64([1, 2])}.sig`,
    ]) {
      assert.equal(jwtExpiry(notJwt), undefined, notJwt);
    }
  });

  test('exp wins over expires_in; expires_in is used for a token without exp; then the 15-minute default', () => {
    const answer = (access_token: string, expires_in?: number) => ({ access_token, token_type: 'Bearer', expires_in });
    assert.deepEqual(tokenLifetime(answer(jwt({ exp: nowSec + 7200 }), 86400), now), {
      expiresAt: now + 7_200_000,
      lifetimeSec: 7200,
      source: 'exp',
    });
    assert.deepEqual(tokenLifetime(answer(jwt({ exp: nowSec + 7200 })), now).source, 'exp');
    assert.deepEqual(tokenLifetime(answer('opaque', 3600), now), {
      expiresAt: now + 3_600_000,
      lifetimeSec: 3600,
      source: 'expires_in',
    });
    assert.deepEqual(tokenLifetime(answer('opaque'), now), {
      expiresAt: now + 900_000,
      lifetimeSec: 900,
      source: 'default',
    });
  });

  test('an exp already past or beyond 25 hours (a skewed clock, a claim in ms) is not believed', () => {
    const answer = (exp: number, expires_in?: number) => ({
      access_token: jwt({ exp }),
      token_type: 'Bearer',
      expires_in,
    });
    assert.equal(tokenLifetime(answer(nowSec - 10, 600), now).source, 'expires_in');
    assert.equal(tokenLifetime(answer(nowSec + 26 * 3600, 600), now).source, 'expires_in');
    assert.equal(tokenLifetime(answer(now + 3_600_000), now).source, 'default');
  });
});

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

  test('given a JWT without expires_in (the simulator default), the lifetime comes from exp', async () => {
    const first = await cache.get(creds);
    const lifetime = cache.lifetimeOf(creds);
    assert.equal(lifetime?.source, 'exp');
    assert.ok(Math.abs((lifetime?.lifetimeSec ?? 0) - 3600) < 5, String(lifetime?.lifetimeSec));
    clock += 3_600_000 - 400_000;
    assert.equal(await cache.get(creds), first);
    assert.equal(tokenRequests(), 1);
    assert.equal(JSON.stringify(sim.requests).includes(first), false);
  });

  test('given an opaque token without expires_in, it is used for the 15-minute default, then replaced', async () => {
    sim.apsis.config.jwtTokens = false;
    const first = await cache.get(creds);
    assert.equal(cache.lifetimeOf(creds)?.source, 'default');
    clock += 900_000 - 91_000; // a tenth of the lifetime before expiry: still used
    assert.equal(await cache.get(creds), first);
    clock += 2_000;
    assert.notEqual(await cache.get(creds), first);
    assert.equal(tokenRequests(), 2);
  });

  test('given an opaque token with expires_in, expires_in is the lifetime', async () => {
    Object.assign(sim.apsis.config, { jwtTokens: false, sendExpiresIn: true, tokenTtlSec: 1200 });
    await cache.get(creds);
    assert.deepEqual([cache.lifetimeOf(creds)?.source, cache.lifetimeOf(creds)?.lifetimeSec], ['expires_in', 1200]);
  });

  test('given a 403 from the API, the client gets one new token and the call succeeds (as on 401)', async () => {
    const api = new ApsisClient(creds, cache);
    await api.requestSegmentReport(report);
    sim.apsis.expireTokens(403);
    await api.requestSegmentReport(report);
    assert.equal(tokenRequests(), 2);
    assert.deepEqual(
      sim.requests.filter((r) => r.endpoint === 'segment-report').map((r) => r.status),
      [200, 403, 200],
    );
  });

  test('given a 403 that persists after the refresh, the error is final and says the new token was refused too', async () => {
    const api = new ApsisClient(creds, cache);
    sim.faults.add({ vendor: 'apsis', endpoint: 'segment-report', kind: 'status', status: 403, times: 5 });
    await assert.rejects(api.requestSegmentReport(report), (err: unknown) => {
      assert.ok(err instanceof ClassifiedError);
      assert.equal(err.type, FAILURE_TYPES.auth);
      assert.equal(err.retryable, false);
      assert.match(err.message, /refused the access token \(HTTP 403\) and then a newly issued one too \(HTTP 403\)/);
      assert.equal(err.message.includes('Bearer'), false);
      return true;
    });
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'segment-report' }), 2);
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
      return err instanceof ClassifiedError && err.type === FAILURE_TYPES.auth && !err.retryable;
    });
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'segment-report' }), 2);
    assert.equal(tokenRequests(), 2);
  });

  test('given wrong client credentials, the token endpoint 401 is a final auth error naming the settings', async () => {
    const wrong = { ...creds, clientSecret: 'not-the-secret-x9' };
    await assert.rejects(cache.get(wrong), (err: unknown) => {
      assert.ok(err instanceof ClassifiedError);
      assert.equal(err.type, FAILURE_TYPES.auth);
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
      assert.equal(err.type, FAILURE_TYPES.rateLimited);
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
      assert.equal(err.type, FAILURE_TYPES.response);
      assert.match(err.message, /token_type/);
      assert.equal(err.message.includes('leaky-token-value'), false);
      return true;
    });
  });
});
