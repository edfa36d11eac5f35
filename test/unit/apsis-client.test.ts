import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClassifiedError } from '../../src/providers/errors';
import { parseVendorJson } from '../../src/providers/http';
import {
  checkReportFormat,
  classifyPollStatus,
  interpretReportAnswer,
  sameOriginUrl,
} from '../../src/providers/apsis/client';
import { XLSX_CONTENT_TYPE } from '../../src/providers/apsis/constants';
import { ApsisCallbackBody, ApsisReportAnswer } from '../../src/providers/apsis/schemas';
import { ApsisProfileInputSchema, ApsisSegmentInputSchema } from '../../src/shared/apsis-inputs';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

const BASE = 'https://api.apsis.one';
const NOW = Date.parse('2026-01-10T12:00:00Z');
const DAY = 86_400_000;
const answer = (value: unknown) =>
  parseVendorJson(
    'apsis',
    'profiles/reports/segments',
    { status: 200, headers: {}, text: JSON.stringify(value) },
    ApsisReportAnswer,
  );

describe('APSIS report answer: which poll URL', () => {
  test('given all three fields, file_download_url_v2 wins and speaks the v2 dialect', () => {
    const report = interpretReportAnswer(
      BASE,
      answer({
        id: 'r1',
        poll_url: `${BASE}/p/old`,
        file_download_url: `${BASE}/p/v1`,
        file_download_url_v2: `${BASE}/p/v2`,
      }),
      NOW,
    );
    assert.deepEqual(report, {
      reportId: 'r1',
      pollUrl: `${BASE}/p/v2`,
      pollKind: 'v2',
      validUntil: new Date(NOW + DAY).toISOString(),
      requestedAt: new Date(NOW).toISOString(),
    });
  });

  test('given file_download_url and poll_url, file_download_url wins (v1); poll_url alone is v1 too', () => {
    const a = interpretReportAnswer(
      BASE,
      answer({ poll_url: `${BASE}/p/old`, file_download_url: `${BASE}/p/v1` }),
      NOW,
    );
    assert.equal(a.pollUrl, `${BASE}/p/v1`);
    assert.equal(a.pollKind, 'v1');
    const b = interpretReportAnswer(BASE, answer({ poll_url: '/p/relative-id' }), NOW);
    assert.equal(b.pollUrl, `${BASE}/p/relative-id`, 'a relative URL resolves against the base');
    assert.equal(b.pollKind, 'v1');
    assert.equal(b.reportId, 'relative-id', 'without an id, the last path segment names the report');
  });

  test('an earlier expires_at shortens validity; a later or unreadable one is capped at one day', () => {
    const soon = new Date(NOW + 3_600_000).toISOString();
    assert.equal(interpretReportAnswer(BASE, answer({ poll_url: '/p/x', expires_at: soon }), NOW).validUntil, soon);
    const late = new Date(NOW + 5 * DAY).toISOString();
    const dayLater = new Date(NOW + DAY).toISOString();
    assert.equal(interpretReportAnswer(BASE, answer({ poll_url: '/p/x', expires_at: late }), NOW).validUntil, dayLater);
    assert.equal(
      interpretReportAnswer(BASE, answer({ poll_url: '/p/x', expires_at: 'soon' }), NOW).validUntil,
      dayLater,
    );
  });

  test('an answer without any poll URL is a typed response error naming the fields', () => {
    assert.throws(
      () => answer({ id: 'r1', url: 'https://api.apsis.one/x' }),
      (err: unknown) =>
        err instanceof ClassifiedError &&
        err.type === FAILURE_TYPES.response &&
        /file_download_url_v2, file_download_url, poll_url/.test(err.message),
    );
  });

  test('a poll URL on another host is refused: the bearer token would go with it', () => {
    assert.throws(
      () => interpretReportAnswer(BASE, answer({ file_download_url_v2: 'https://evil.example/p/1' }), NOW),
      (err: unknown) =>
        err instanceof ClassifiedError && !err.retryable && /another host \(https:\/\/evil\.example/.test(err.message),
    );
    assert.throws(() => sameOriginUrl(BASE, 'http://api.apsis.one/x', 'x'), /another host/, 'scheme counts too');
    assert.equal(sameOriginUrl(BASE, `${BASE}/audience/x?metadata=true`, 'x'), `${BASE}/audience/x?metadata=true`);
  });
});

describe('APSIS poll URL statuses', () => {
  const meaning = (kind: 'v1' | 'v2', status: number) => classifyPollStatus('r1', kind, status, '');
  test('v2: 404 means an invalid id (final, not "not ready")', () => {
    const err = meaning('v2', 404)!;
    assert.equal(err.type, FAILURE_TYPES.response);
    assert.equal(err.retryable, false);
    assert.match(err.message, /invalid/);
  });
  test('410 is gone and 503 is a failed job: both final for the activity, so the workflow requests anew', () => {
    assert.equal(meaning('v1', 410)!.type, FAILURE_TYPES.gone);
    assert.equal(meaning('v2', 410)!.type, FAILURE_TYPES.gone);
    assert.equal(meaning('v1', 503)!.type, FAILURE_TYPES.jobFailed);
    assert.equal(meaning('v2', 503)!.retryable, false);
  });
  test('other statuses keep the default mapping (429 and 5xx retryable, 401 refresh)', () => {
    assert.equal(meaning('v1', 429), undefined);
    assert.equal(meaning('v2', 500), undefined);
    assert.equal(meaning('v2', 401), undefined);
  });
});

describe('APSIS report format check', () => {
  const csv = 'text/csv;charset=UTF-8;header=present';
  test('accepts what was asked for', () => {
    assert.equal(checkReportFormat('csv', { 'content-type': csv }), undefined);
    assert.equal(checkReportFormat('csv.gz', { 'content-type': csv, 'content-encoding': 'gzip' }), undefined);
    assert.equal(checkReportFormat('xlsx', { 'content-type': XLSX_CONTENT_TYPE }), undefined);
  });
  test('refuses to store something else under the asked-for name', () => {
    assert.match(
      checkReportFormat('csv.gz', { 'content-type': csv })!.message,
      /asked for csv.gz.*Content-Encoding "identity"/,
    );
    assert.match(checkReportFormat('xlsx', { 'content-type': csv })!.message, /asked for xlsx/);
    assert.match(checkReportFormat('csv', { 'content-type': 'text/html' })!.message, /text\/html page/);
    assert.match(checkReportFormat('csv', { 'content-type': csv, 'content-encoding': 'gzip' })!.message, /gzip/);
  });
});

describe('APSIS callback body', () => {
  test('code 100 and code 200 with a URL pass; a code-200 message that is not a URL does not', () => {
    assert.ok(ApsisCallbackBody.safeParse({ code: 100, message: 'Callback verified' }).success);
    assert.ok(ApsisCallbackBody.safeParse({ code: 200, message: 'https://api.apsis.one/a/b?metadata=true' }).success);
    assert.equal(ApsisCallbackBody.safeParse({ code: 200, message: 'not a url' }).success, false);
    assert.equal(ApsisCallbackBody.safeParse({ code: '200', message: 'https://x' }).success, false);
    assert.equal(ApsisCallbackBody.safeParse({ message: 'x' }).success, false);
  });
});

describe('APSIS inputs', () => {
  test('segment export: section and a segment are required, format is csv, csv.gz or xlsx', () => {
    const ok = ApsisSegmentInputSchema.parse({ section: 's', segments: ['a', 'b'] });
    assert.deepEqual([ok.format, ok.attributes, ok.tags], ['csv', [], []]);
    const issues = (input: unknown) =>
      ApsisSegmentInputSchema.safeParse(input).error?.issues.map((i) => i.path.join('.')) ?? [];
    assert.deepEqual(issues({ segments: ['a'] }), ['section']);
    assert.deepEqual(issues({ section: 's', segments: [] }), ['segments']);
    assert.deepEqual(issues({ section: 's', segments: ['a'], format: 'pdf' }), ['format']);
    assert.deepEqual(issues({ section: ' ', segments: ['a'] }), ['section']);
  });
  test('profile export: an empty or blank export key is refused; flags default to false', () => {
    const ok = ApsisProfileInputSchema.parse({ exportKey: 'a@b.c' });
    assert.deepEqual([ok.history, ok.typeDefinitions, ok.merged], [false, false, false]);
    for (const exportKey of ['', '   ']) {
      const res = ApsisProfileInputSchema.safeParse({ exportKey });
      assert.equal(res.success, false);
      assert.equal(res.error!.issues[0]!.path.join('.'), 'exportKey');
      assert.match(res.error!.issues[0]!.message, /must not be empty/);
    }
  });
});
