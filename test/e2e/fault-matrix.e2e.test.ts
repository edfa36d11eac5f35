import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExportFailedError, type ExportManifest, type SupportedProvider } from '../../src/client';
import { callbackSecret, readConfig } from '../../src/config';
import { csvInfo, csvRows, type FaultAction, type Simulator } from '../../src/simulator';
import { APSIS_DEFAULTS, type ApsisSimConfig } from '../../src/simulator/apsis';
import { profileDocument } from '../../src/simulator/apsis-profile';
import { gzipInfo } from '../../src/simulator/gzip';
import { SIM_ACCESS_TOKEN } from '../helpers/apsis';
import { exportDirTexts, scanForSecrets } from '../helpers/secrets';
import { waitFor } from '../helpers/processes';
import { startStack, type TestStack } from '../helpers/stack';
import { exportRequest, type ExportRequest } from '../helpers/export-request';
import { jobsFor } from '../helpers/vendor-jobs';
import { type Vendor } from '../../src/shared/vendors';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

/**
 * The vendor fault matrix: for every export kind, each way a vendor misbehaves (5xx bursts, 429 with and without
 * Retry-After, cut connections, slow and silent answers, truncated bodies, HTML pages, unknown status words,
 * schema drift, expired links, failed jobs) ends in success with the vendor's bytes or in a typed failure with
 * the vendor's words; never a wrong file, never a hang past EXPORTFLOW_MAX_WAIT, never a retry storm.
 *
 * One stack serves every case. Each case exports its own subject (an Altcraft segment id, an APSIS section or
 * export key, a myTracker segment id), faults are aimed at that subject only, and requests are counted per
 * subject, so cases run side by side.
 */

const HEARTBEAT_MS = 3000;
/** A wait long enough to outlive the heartbeat timeout: a download must survive a vendor this slow to answer. */
const SLOW_MS = 2 * HEARTBEAT_MS;
/** EXPORTFLOW_MAX_WAIT of the cases whose vendor never answers. */
const SHORT_MAX_WAIT_MS = 8000;
/**
 * The same for myTracker: its vendor queue serves every worker 1.5 activities/s (the vendor's quota), and this
 * matrix's myTracker cases all poll side by side, so a create.json can wait several seconds in that queue; with
 * 8 s the deadline sometimes came before the export existed (seen once with two test files at a time).
 */
const MYTRACKER_MAX_WAIT_MS = 20_000;

type Expectation = { ok: true; attempts?: number } | { type: string; message: RegExp };
type CaseFault = FaultAction & { endpoint: string; times?: number; afterCount?: number };

interface FaultCase {
  provider: SupportedProvider;
  /** The matrix column: which kind of fault. */
  fault: string;
  /** What exactly happens, for the test name. */
  what: string;
  faults: CaseFault[];
  expect: Expectation;
  /** Vendor jobs created for this export: exact, or [min, max]. Default 1. */
  jobs?: number | [number, number];
  /** Upper bound on all requests about this export (no retry storm). */
  maxRequests: number;
  /** Upper bounds per endpoint. */
  endpointMax?: Record<string, number>;
  maxWaitMs?: number;
  /** Global simulator settings this case needs; such cases run one at a time after the others. */
  apsisConfig?: Partial<ApsisSimConfig>;
}

const VENDOR: Record<SupportedProvider, Vendor> = {
  altcraft: 'altcraft',
  'apsis-segment': 'apsis',
  'apsis-profile': 'apsis',
  mytracker: 'mytracker',
};

const HTML_502 = /HTML\/XML page instead of JSON: "<!DOCTYPE html>.*502 Bad Gateway/;
const retryAfter1 = { 'retry-after': '1' };
const never = { kind: 'delay', ms: 600_000, times: Infinity } as const;

const CASES: FaultCase[] = [
  // Altcraft: errors in 200 bodies, task status words, files under the panel.
  {
    provider: 'altcraft',
    fault: '5xx burst',
    what: '503 twice on get_all, 502 twice on tasks/status',
    faults: [
      { endpoint: 'get_all', kind: 'status', status: 503, times: 2 },
      { endpoint: 'status', kind: 'status', status: 502, times: 2 },
    ],
    expect: { ok: true },
    maxRequests: 25,
    endpointMax: { get_all: 3, download: 1 },
  },
  {
    provider: 'altcraft',
    fault: '429 + Retry-After',
    what: '429 Retry-After: 1 twice on tasks/status',
    faults: [{ endpoint: 'status', kind: 'status', status: 429, headers: retryAfter1, times: 2 }],
    expect: { ok: true },
    maxRequests: 25,
  },
  {
    provider: 'altcraft',
    fault: '429, no Retry-After',
    what: '429 twice on get_all',
    faults: [{ endpoint: 'get_all', kind: 'status', status: 429, times: 2 }],
    expect: { ok: true },
    maxRequests: 25,
    endpointMax: { get_all: 3 },
  },
  {
    provider: 'altcraft',
    fault: 'connection reset',
    what: 'reset on tasks/status and on the download',
    faults: [
      { endpoint: 'status', kind: 'reset' },
      { endpoint: 'download', kind: 'reset' },
    ],
    expect: { ok: true },
    maxRequests: 25,
    endpointMax: { download: 2 },
  },
  {
    provider: 'altcraft',
    fault: 'slow answer',
    what: `tasks/status and the download answer after ${SLOW_MS} ms`,
    faults: [
      { endpoint: 'status', kind: 'delay', ms: SLOW_MS },
      { endpoint: 'download', kind: 'delay', ms: SLOW_MS },
    ],
    expect: { ok: true },
    maxRequests: 25,
    endpointMax: { download: 1 },
  },
  {
    provider: 'altcraft',
    fault: 'timeout',
    what: 'tasks/status never answers',
    faults: [{ endpoint: 'status', ...never }],
    expect: {
      type: FAILURE_TYPES.timeout,
      message: /Altcraft task \S+ did not finish within EXPORTFLOW_MAX_WAIT \(8s\)/,
    },
    maxWaitMs: SHORT_MAX_WAIT_MS,
    maxRequests: 6,
  },
  {
    provider: 'altcraft',
    fault: 'timeout',
    what: 'get_all never answers',
    faults: [{ endpoint: 'get_all', ...never }],
    expect: { type: FAILURE_TYPES.timeout, message: /Altcraft .*EXPORTFLOW_MAX_WAIT \(8s\)/ },
    maxWaitMs: SHORT_MAX_WAIT_MS,
    jobs: 0,
    maxRequests: 4,
  },
  {
    provider: 'altcraft',
    fault: 'truncated body',
    what: 'tasks/status cut after 10 bytes, the download after 20 kB',
    faults: [
      { endpoint: 'status', kind: 'truncate', afterBytes: 10 },
      { endpoint: 'download', kind: 'truncate', afterBytes: 20_000 },
    ],
    expect: { ok: true },
    maxRequests: 25,
    endpointMax: { download: 2 },
  },
  {
    provider: 'altcraft',
    fault: 'truncated body',
    what: 'the get_all answer is lost after Altcraft created the task',
    faults: [{ endpoint: 'get_all', kind: 'truncate', afterBytes: 5 }],
    expect: { ok: true, attempts: 1 },
    // Altcraft has no idempotency key: the lost answer leaves one orphan task, never downloaded.
    jobs: [1, 2],
    maxRequests: 25,
    endpointMax: { get_all: 2, download: 1 },
  },
  {
    provider: 'altcraft',
    fault: 'HTML error page',
    what: 'an nginx 502 page on tasks/status (retried like any 5xx)',
    faults: [{ endpoint: 'status', kind: 'html', status: 502 }],
    expect: { ok: true },
    maxRequests: 25,
  },
  {
    provider: 'altcraft',
    fault: 'HTML error page',
    what: 'an HTML page with HTTP 200 on get_all',
    faults: [{ endpoint: 'get_all', kind: 'html', status: 200, times: Infinity }],
    expect: { type: FAILURE_TYPES.response, message: HTML_502 },
    jobs: 0,
    maxRequests: 1,
  },
  {
    provider: 'altcraft',
    fault: 'unknown status word',
    // Real panels answer running words no page lists (issue 11): one without a result is still running, so the
    // export keeps polling, shows the word, and ends only at EXPORTFLOW_MAX_WAIT.
    what: 'tasks/status says "paused" (no result) until the maximum wait',
    faults: [
      {
        endpoint: 'status',
        kind: 'json',
        body: { data: { status: 'paused', progress: 40 }, error: 0, error_text: 'Successful operation' },
        times: Infinity,
      },
    ],
    expect: {
      type: FAILURE_TYPES.timeout,
      message: /Altcraft task \S+ did not finish within EXPORTFLOW_MAX_WAIT \(8s\) \(last status "paused", 40%\)/,
    },
    maxWaitMs: SHORT_MAX_WAIT_MS,
    maxRequests: 30,
  },
  {
    provider: 'altcraft',
    fault: 'schema drift',
    what: 'tasks/status renames status to state',
    faults: [
      {
        endpoint: 'status',
        kind: 'json',
        body: { data: { state: 'completed', percent: 100 }, error: 0, error_text: 'Successful operation' },
        times: Infinity,
      },
    ],
    expect: {
      type: FAILURE_TYPES.response,
      message: /Altcraft tasks\/status answered with an unexpected shape \(status:/,
    },
    maxRequests: 2,
  },
  {
    provider: 'altcraft',
    fault: 'expired link',
    what: 'the download link answers 410 once',
    faults: [{ endpoint: 'download', kind: 'status', status: 410 }],
    expect: { ok: true, attempts: 2 },
    jobs: 2,
    maxRequests: 30,
    endpointMax: { get_all: 2, download: 2 },
  },
  {
    provider: 'altcraft',
    fault: 'vendor job failure',
    what: 'the task ends as "error" with the reason in result.errors',
    faults: [
      {
        endpoint: 'status',
        kind: 'json',
        body: {
          data: {
            status: 'error',
            progress: 100,
            result: { errors: ['Export failed: segment is being rebuilt'], total: 0, urls: [] },
          },
          error: 0,
          error_text: 'Successful operation',
        },
        times: Infinity,
      },
    ],
    expect: { type: FAILURE_TYPES.jobFailed, message: /ended with status "error".*segment is being rebuilt/ },
    maxRequests: 2,
  },
  {
    provider: 'altcraft',
    fault: 'vendor job failure',
    what: 'get_all refuses with error 4 in a 200 body',
    faults: [
      {
        endpoint: 'get_all',
        kind: 'json',
        body: { data: null, error: 4, error_text: 'Payment required: export limit reached' },
        times: Infinity,
      },
    ],
    expect: { type: FAILURE_TYPES.altcraft, message: /error 4 "Payment required: export limit reached"/ },
    jobs: 0,
    maxRequests: 1,
  },

  // APSIS One profiles-in-segment report: the poll URL answers "not ready" or streams the file.
  {
    provider: 'apsis-segment',
    fault: '5xx burst',
    what: '502 twice on the report request, 500 once on the poll URL',
    faults: [
      { endpoint: 'segment-report', kind: 'status', status: 502, times: 2 },
      { endpoint: 'poll', kind: 'status', status: 500 },
    ],
    expect: { ok: true },
    maxRequests: 20,
    endpointMax: { 'segment-report': 3 },
  },
  {
    provider: 'apsis-segment',
    fault: '429 + Retry-After',
    what: '429 Retry-After: 1 twice on the poll URL',
    faults: [{ endpoint: 'poll', kind: 'status', status: 429, headers: retryAfter1, times: 2 }],
    expect: { ok: true },
    maxRequests: 20,
  },
  {
    provider: 'apsis-segment',
    fault: '429, no Retry-After',
    what: '429 once on the report request',
    faults: [{ endpoint: 'segment-report', kind: 'status', status: 429 }],
    expect: { ok: true },
    maxRequests: 20,
    endpointMax: { 'segment-report': 2 },
  },
  {
    provider: 'apsis-segment',
    fault: 'connection reset',
    what: 'reset on the poll URL',
    faults: [{ endpoint: 'poll', kind: 'reset' }],
    expect: { ok: true },
    maxRequests: 20,
  },
  {
    provider: 'apsis-segment',
    fault: 'slow answer',
    what: `the poll URL answers after ${SLOW_MS} ms`,
    faults: [{ endpoint: 'poll', kind: 'delay', ms: SLOW_MS }],
    expect: { ok: true },
    maxRequests: 20,
    endpointMax: { poll: 1 },
  },
  {
    provider: 'apsis-segment',
    fault: 'timeout',
    what: 'the poll URL never answers',
    faults: [{ endpoint: 'poll', ...never }],
    expect: {
      type: FAILURE_TYPES.timeout,
      message: /APSIS One report \S+ did not finish within EXPORTFLOW_MAX_WAIT \(8s\)/,
    },
    maxWaitMs: SHORT_MAX_WAIT_MS,
    maxRequests: 6,
  },
  {
    provider: 'apsis-segment',
    fault: 'truncated body',
    what: 'the report file cut after 5 kB',
    faults: [{ endpoint: 'poll', kind: 'truncate', afterBytes: 5000 }],
    expect: { ok: true },
    maxRequests: 20,
    endpointMax: { poll: 2 },
  },
  {
    provider: 'apsis-segment',
    fault: 'HTML error page',
    what: 'an HTML page with HTTP 200 instead of the CSV',
    faults: [{ endpoint: 'poll', kind: 'html', status: 200, times: Infinity }],
    expect: { type: FAILURE_TYPES.response, message: /asked for csv but answered with a text\/html page/ },
    maxRequests: 3,
  },
  {
    provider: 'apsis-segment',
    fault: 'unknown status word',
    what: 'the poll URL answers 409 with a problem detail',
    faults: [
      {
        endpoint: 'poll',
        kind: 'status',
        status: 409,
        body: { title: 'Conflict', status: 409, detail: 'Report is locked by another export' },
        times: Infinity,
      },
    ],
    expect: { type: FAILURE_TYPES.request, message: /HTTP 409.*Report is locked by another export/ },
    maxRequests: 3,
  },
  {
    provider: 'apsis-segment',
    fault: 'schema drift',
    what: 'the report answer names its URL download_link',
    faults: [
      {
        endpoint: 'segment-report',
        kind: 'json',
        body: { id: 'r-1', download_link: '/audience/profiles/reports/segments/r-1' },
        times: Infinity,
      },
    ],
    expect: {
      type: FAILURE_TYPES.response,
      message: /expected one of file_download_url_v2, file_download_url, poll_url/,
    },
    jobs: 0,
    maxRequests: 1,
  },
  {
    provider: 'apsis-segment',
    fault: 'expired link',
    what: 'the poll URL answers 410 once',
    faults: [{ endpoint: 'poll', kind: 'status', status: 410 }],
    expect: { ok: true, attempts: 2 },
    jobs: 2,
    maxRequests: 20,
  },
  {
    provider: 'apsis-segment',
    fault: 'vendor job failure',
    what: 'the poll URL answers 503 (processing failed) every time',
    faults: [
      {
        endpoint: 'poll',
        kind: 'status',
        status: 503,
        body: { title: 'Service Unavailable', status: 503, detail: 'Report processing failed' },
        times: Infinity,
      },
    ],
    expect: {
      type: FAILURE_TYPES.jobFailed,
      message: /HTTP 503.*Report processing failed.*gave up after requesting the report 3 times/,
    },
    jobs: 3,
    maxRequests: 8,
    endpointMax: { 'segment-report': 3, poll: 3 },
  },

  // APSIS One single profile: request, callback, data URL.
  {
    provider: 'apsis-profile',
    fault: '5xx burst',
    what: '502 twice on export-single',
    faults: [{ endpoint: 'export-single', kind: 'status', status: 502, times: 2 }],
    expect: { ok: true },
    maxRequests: 6,
    endpointMax: { 'export-single': 3, 'profile-data': 1 },
  },
  {
    provider: 'apsis-profile',
    fault: '429 + Retry-After',
    what: '429 Retry-After: 1 on the data URL',
    faults: [{ endpoint: 'profile-data', kind: 'status', status: 429, headers: retryAfter1 }],
    expect: { ok: true },
    maxRequests: 4,
  },
  {
    provider: 'apsis-profile',
    fault: '429, no Retry-After',
    what: '429 on export-single',
    faults: [{ endpoint: 'export-single', kind: 'status', status: 429 }],
    expect: { ok: true },
    maxRequests: 4,
    endpointMax: { 'export-single': 2 },
  },
  {
    provider: 'apsis-profile',
    fault: 'connection reset',
    what: 'reset on the data URL',
    faults: [{ endpoint: 'profile-data', kind: 'reset' }],
    expect: { ok: true },
    maxRequests: 4,
  },
  {
    provider: 'apsis-profile',
    fault: 'slow answer',
    what: `the data URL answers after ${SLOW_MS} ms`,
    faults: [{ endpoint: 'profile-data', kind: 'delay', ms: SLOW_MS }],
    expect: { ok: true },
    maxRequests: 3,
    endpointMax: { 'profile-data': 1 },
  },
  {
    provider: 'apsis-profile',
    fault: 'timeout',
    what: 'export-single never answers',
    faults: [{ endpoint: 'export-single', ...never }],
    expect: { type: FAILURE_TYPES.timeout, message: /APSIS One .*EXPORTFLOW_MAX_WAIT \(8s\)/ },
    maxWaitMs: SHORT_MAX_WAIT_MS,
    jobs: 0,
    maxRequests: 4,
  },
  {
    provider: 'apsis-profile',
    fault: 'truncated body',
    what: 'the profile JSON cut after 50 bytes',
    faults: [{ endpoint: 'profile-data', kind: 'truncate', afterBytes: 50 }],
    expect: { ok: true },
    maxRequests: 4,
  },
  {
    provider: 'apsis-profile',
    fault: 'HTML error page',
    what: 'an HTML page instead of the profile JSON',
    faults: [{ endpoint: 'profile-data', kind: 'html', status: 200, times: Infinity }],
    expect: { type: FAILURE_TYPES.response, message: /Content-Type "text\/html; charset=utf-8" instead of JSON/ },
    maxRequests: 3,
  },
  {
    provider: 'apsis-profile',
    fault: 'unknown status word',
    what: 'the callback carries code 300',
    faults: [],
    apsisConfig: { callbackFailure: { code: 300, message: 'Export postponed: profile is being merged' } },
    expect: { type: FAILURE_TYPES.jobFailed, message: /code 300 .*Export postponed: profile is being merged/ },
    maxRequests: 1,
  },
  {
    provider: 'apsis-profile',
    fault: 'schema drift',
    what: 'the data URL answers JSON of another shape',
    faults: [{ endpoint: 'profile-data', kind: 'json', body: { profile: { id: 1 } }, times: Infinity }],
    expect: { type: FAILURE_TYPES.response, message: /not a profile export: profiles:/ },
    maxRequests: 3,
  },
  {
    provider: 'apsis-profile',
    fault: 'expired link',
    what: 'the data URL answers 410 once',
    faults: [{ endpoint: 'profile-data', kind: 'status', status: 410 }],
    expect: { ok: true, attempts: 2 },
    jobs: 2,
    maxRequests: 5,
  },
  {
    provider: 'apsis-profile',
    fault: 'vendor job failure',
    what: 'the callback carries code 500',
    faults: [],
    apsisConfig: { callbackFailure: { code: 500, message: 'Export could not be generated' } },
    expect: { type: FAILURE_TYPES.jobFailed, message: /code 500 .*Export could not be generated/ },
    maxRequests: 1,
  },

  // myTracker: signed calls, "In progress" -> "Success!" with expiring links.
  {
    provider: 'mytracker',
    fault: '5xx burst',
    what: '502 on create.json, 503 twice on get.json',
    faults: [
      { endpoint: 'create', kind: 'status', status: 502 },
      { endpoint: 'get', kind: 'status', status: 503, times: 2 },
    ],
    expect: { ok: true },
    maxRequests: 20,
    endpointMax: { create: 2, download: 2 },
  },
  {
    provider: 'mytracker',
    fault: '429 + Retry-After',
    what: '429 Retry-After: 1 twice on get.json',
    faults: [
      {
        endpoint: 'get',
        kind: 'status',
        status: 429,
        headers: retryAfter1,
        body: { code: 429, message: 'Too Many Requests', data: { error: { detail: 'Request limit exceeded' } } },
        times: 2,
      },
    ],
    expect: { ok: true },
    maxRequests: 20,
  },
  {
    provider: 'mytracker',
    fault: '429, no Retry-After',
    what: '429 on create.json',
    faults: [{ endpoint: 'create', kind: 'status', status: 429 }],
    expect: { ok: true },
    maxRequests: 20,
    endpointMax: { create: 2 },
  },
  {
    provider: 'mytracker',
    fault: 'connection reset',
    what: 'reset on get.json and on a download',
    faults: [
      { endpoint: 'get', kind: 'reset' },
      { endpoint: 'download', kind: 'reset' },
    ],
    expect: { ok: true },
    maxRequests: 20,
    endpointMax: { download: 3 },
  },
  {
    provider: 'mytracker',
    fault: 'slow answer',
    what: `a download answers after ${SLOW_MS} ms`,
    faults: [{ endpoint: 'download', kind: 'delay', ms: SLOW_MS }],
    expect: { ok: true },
    maxRequests: 20,
    endpointMax: { download: 2 },
  },
  {
    provider: 'mytracker',
    fault: 'timeout',
    what: 'get.json never answers',
    faults: [{ endpoint: 'get', ...never }],
    expect: {
      type: FAILURE_TYPES.timeout,
      message: /myTracker export \S+ did not finish within EXPORTFLOW_MAX_WAIT \(20s\)/,
    },
    maxWaitMs: MYTRACKER_MAX_WAIT_MS,
    maxRequests: 6,
  },
  {
    provider: 'mytracker',
    fault: 'truncated body',
    what: 'a download cut after 200 bytes',
    faults: [{ endpoint: 'download', kind: 'truncate', afterBytes: 200 }],
    expect: { ok: true },
    maxRequests: 20,
    endpointMax: { download: 3 },
  },
  {
    provider: 'mytracker',
    fault: 'HTML error page',
    what: 'an HTML page with HTTP 200 on get.json',
    faults: [{ endpoint: 'get', kind: 'html', status: 200, times: Infinity }],
    expect: { type: FAILURE_TYPES.response, message: HTML_502 },
    maxRequests: 2,
  },
  {
    provider: 'mytracker',
    fault: 'unknown status word',
    what: 'get.json says "Paused"',
    faults: [
      {
        endpoint: 'get',
        kind: 'json',
        body: { code: 200, message: 'Ok', data: { status: 'Paused' } },
        times: Infinity,
      },
    ],
    expect: { type: FAILURE_TYPES.response, message: /unknown status "Paused"/ },
    maxRequests: 2,
  },
  {
    provider: 'mytracker',
    fault: 'schema drift',
    what: 'get.json lists files as {url, expires}',
    faults: [
      {
        endpoint: 'get',
        kind: 'json',
        body: { code: 200, message: 'Ok', data: { status: 'Success!', files: [{ url: '/x.csv.gz', expires: 1 }] } },
        times: Infinity,
      },
    ],
    expect: {
      type: FAILURE_TYPES.response,
      message: /myTracker get\.json answered with an unexpected shape \(files\.0\.link/,
    },
    maxRequests: 2,
  },
  {
    provider: 'mytracker',
    fault: 'expired link',
    what: 'a download link answers 410 once (refreshed by get.json, no new export)',
    faults: [{ endpoint: 'download', kind: 'status', status: 410 }],
    expect: { ok: true, attempts: 1 },
    maxRequests: 20,
    endpointMax: { create: 1, download: 3 },
  },
  {
    provider: 'mytracker',
    fault: 'vendor job failure',
    what: 'get.json says "User error occurred"',
    faults: [
      {
        endpoint: 'get',
        kind: 'json',
        body: {
          code: 200,
          message: 'Ok',
          data: { status: 'User error occurred', errorMessage: 'Segment is archived' },
        },
        times: Infinity,
      },
    ],
    expect: { type: FAILURE_TYPES.jobFailed, message: /User error occurred: Segment is archived/ },
    maxRequests: 2,
  },
];

interface Outcome {
  name: string;
  result: string;
  requests: number;
  jobs: number;
  seconds: number;
}

describe('vendor fault matrix', () => {
  let stack: TestStack;
  let sim: Simulator;
  const outcomes: Outcome[] = [];
  const manifests: ExportManifest[] = [];

  before(async () => {
    stack = await startStack('faults', {
      sim: {
        altcraft: { taskDurationMs: 400 },
        apsis: { reportReadyAfterMs: 0, rows: 400, callbackDelayMs: 100 },
        mytracker: { exportDurationMs: 400, files: 2, rowsPerFile: 400 },
      },
    });
    sim = stack.sim;
  });

  after(async () => {
    if (outcomes.length > 0) {
      console.log('\nfault matrix (requests = all requests about the export, jobs = vendor jobs created):');
      console.table(outcomes);
    }
    await stack?.stop();
  });

  const sha256 = (data: Buffer | string): string => crypto.createHash('sha256').update(data).digest('hex');

  function inputFor(c: FaultCase, i: number): { subject: string } & ExportRequest {
    switch (c.provider) {
      case 'altcraft':
        return {
          subject: `segment:${1000 + i}`,
          ...exportRequest(c.provider, { sourceType: 'segment', sourceId: 1000 + i }),
        };
      case 'apsis-segment':
        return {
          subject: `com.fm.section${i}`,
          ...exportRequest(c.provider, { section: `com.fm.section${i}`, segments: [`com.fm.segment${i}`] }),
        };
      case 'apsis-profile':
        return { subject: `fm-${i}@example.test`, ...exportRequest(c.provider, { exportKey: `fm-${i}@example.test` }) };
      case 'mytracker':
        return { subject: String(5000 + i), ...exportRequest(c.provider, { segmentId: 5000 + i }) };
    }
  }

  /** sha256 of each file the vendor job named in the manifest serves, from the simulator's data sets. */
  async function expectedSha256s(manifest: ExportManifest): Promise<string[]> {
    const id = manifest.remote.id;
    switch (manifest.provider) {
      case 'altcraft': {
        const task = sim.altcraft.tasks().find((t) => t.id === id);
        assert.ok(task, `Altcraft task ${id} exists`);
        return task.files.map((f) => csvInfo(f.seed, f.rows).sha256);
      }
      case 'apsis-segment': {
        const report = sim.apsis.reports().find((r) => r.id === id);
        assert.ok(report, `APSIS report ${id} exists`);
        return [csvInfo(report.seed, report.rows).sha256];
      }
      case 'apsis-profile': {
        const exp = sim.apsis.profileExports().find((e) => e.id === id);
        assert.ok(exp, `APSIS profile export ${id} exists`);
        return [sha256(JSON.stringify(profileDocument(exp)))];
      }
      case 'mytracker': {
        const exp = sim.mytracker.exports().find((e) => e.id === id);
        assert.ok(exp, `myTracker export ${id} exists`);
        const infos = await Promise.all(
          exp.files.map((f) => {
            // The simulator writes the header line into the first file only, unless told otherwise (issue 11).
            const header = exp.header && (f.index === 0 || sim.mytracker.config.headerInEveryFile);
            return gzipInfo(`${f.seed}|${f.rows}|${header}`, () => csvRows(f.seed, f.rows, { header }));
          }),
        );
        return infos.map((info) => info.sha256);
      }
    }
  }

  /** The export's result, or its failure; a result that does not come in time is a hang and fails the case. */
  async function settle(workflowId: string, boundMs: number): Promise<ExportManifest | ExportFailedError> {
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`hang: ${workflowId} did not end within ${boundMs} ms`)), boundMs);
    });
    try {
      return await Promise.race([
        stack.client.result(workflowId).catch((err: unknown) => {
          if (err instanceof ExportFailedError) return err;
          throw err;
        }),
        hang,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function runCase(c: FaultCase, i: number): Promise<void> {
    const { subject, provider, input } = inputFor(c, i);
    const vendor = VENDOR[c.provider];
    for (const f of c.faults) sim.faults.add({ vendor, subject, ...f });
    const maxWaitMs = c.maxWaitMs ?? 60_000;
    const started = Date.now();
    const { workflowId } = await stack.client.start(
      provider,
      {
        ...input,
        timing: { pollInitialMs: 200, pollMaxMs: 600, maxWaitMs, heartbeatTimeoutMs: HEARTBEAT_MS },
      },
      { workflowId: `fm-${i}-${c.provider}-${c.fault.replace(/[^A-Za-z0-9]+/g, '-')}` },
    );
    // Bounded well below the case's own timeouts: an export that outlives it is hanging.
    const outcome = await settle(workflowId, Math.min(maxWaitMs, 30_000) + 45_000);
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    const about = () => sim.requests.filter((r) => r.vendor === vendor && r.subject === subject);
    // No call is left running: even a request the vendor never answered was aborted once the export ended.
    await waitFor(
      'every vendor call of the export to end',
      () => about().every((r) => r.endedAt !== undefined),
      20_000,
    );
    const requests = about();
    const jobs = jobsFor(sim, c.provider, subject);
    const exportDir = path.join(stack.env.EXPORT_DIR!, workflowId);
    outcomes.push({
      name: `${c.provider} / ${c.fault}: ${c.what}`,
      result: outcome instanceof ExportFailedError ? `${outcome.type}` : 'completed',
      requests: requests.length,
      jobs,
      seconds,
    });

    if ('ok' in c.expect) {
      assert.ok(!(outcome instanceof ExportFailedError), `expected success, got ${String((outcome as Error).message)}`);
      const manifest = outcome;
      manifests.push(manifest);
      if (c.expect.attempts !== undefined) assert.equal(manifest.remote.attempts, c.expect.attempts);
      const expected = await expectedSha256s(manifest);
      assert.deepEqual(
        manifest.files.map((f) => f.sha256).sort(),
        [...expected].sort(),
        'the vendor bytes, all of them',
      );
      for (const file of manifest.files) {
        assert.equal(sha256(fs.readFileSync(file.path)), file.sha256, `${file.name} on disk is what the manifest says`);
      }
      assert.deepEqual(
        fs.readdirSync(exportDir).sort(),
        manifest.files.map((f) => f.name).sort(),
        'no partial or extra file',
      );
    } else {
      assert.ok(outcome instanceof ExportFailedError, `expected ${c.expect.type}, got a completed export`);
      assert.equal(outcome.status, 'failed');
      assert.equal(outcome.type, c.expect.type, outcome.message);
      assert.match(outcome.message, c.expect.message);
      assert.equal(fs.existsSync(exportDir), false, 'a failed export leaves no file behind');
    }

    const [minJobs, maxJobs] = Array.isArray(c.jobs) ? c.jobs : [c.jobs ?? 1, c.jobs ?? 1];
    assert.ok(jobs >= minJobs && jobs <= maxJobs, `vendor jobs created: ${jobs}, expected ${minJobs}..${maxJobs}`);
    assert.ok(requests.length <= c.maxRequests, `${requests.length} requests > ${c.maxRequests}: a retry storm`);
    for (const [endpoint, max] of Object.entries(c.endpointMax ?? {})) {
      const n = requests.filter((r) => r.endpoint === endpoint).length;
      assert.ok(n <= max, `${n} ${endpoint} requests > ${max}`);
    }
  }

  const indexed = CASES.map((c, i) => ({ c, i }));
  const name = ({ c }: { c: FaultCase }) => `${c.provider} / ${c.fault}: ${c.what}`;

  describe('cases side by side', { concurrency: 12 }, () => {
    for (const entry of indexed.filter(({ c }) => !c.apsisConfig)) {
      test(name(entry), () => runCase(entry.c, entry.i));
    }
  });

  describe('cases that change the simulated APSIS callbacks, one at a time', () => {
    for (const entry of indexed.filter(({ c }) => c.apsisConfig)) {
      test(name(entry), async () => {
        Object.assign(sim.apsis.config, entry.c.apsisConfig);
        try {
          await runCase(entry.c, entry.i);
        } finally {
          Object.assign(sim.apsis.config, { callbackFailure: APSIS_DEFAULTS.callbackFailure });
        }
      });
    }
  });

  test('no token, secret, access token, signature or callback token in any history, log or manifest', async () => {
    const env = stack.env;
    const report = await scanForSecrets({
      temporal: stack.client.temporal,
      query: `TaskQueue="${env.EXPORTFLOW_TASK_QUEUE}"`,
      secrets: [
        env.ALTCRAFT_TOKEN!,
        env.APSIS_CLIENT_SECRET!,
        env.MYTRACKER_API_SECRET!,
        callbackSecret(readConfig(env)),
      ],
      authorizations: sim.authorizationsSeen(),
      callbackSecret: callbackSecret(readConfig(env)),
      patterns: [SIM_ACCESS_TOKEN],
      texts: [
        ...stack.workers.map((w, k) => ({ name: `worker ${k} log`, text: w.logs() })),
        { name: 'manifests', text: JSON.stringify(manifests) },
        ...exportDirTexts(env.EXPORT_DIR!),
      ],
    });
    console.log(
      `secret scan: ${report.histories} histories, ${report.texts} texts, ${report.needles} secret values: ${report.hits.length} hits`,
    );
    assert.ok(report.histories >= CASES.length, `scanned ${report.histories} histories`);
    assert.ok(sim.authorizationsSeen().length >= 3, 'bearer tokens and signatures were collected');
    assert.deepEqual(report.hits, []);
  });
});
