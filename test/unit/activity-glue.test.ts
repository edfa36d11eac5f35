import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ActivityCancellationDetails, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createAltcraftActivities } from '../../src/activities/altcraft';
import { createApsisActivities } from '../../src/activities/apsis';
import { createFileActivities } from '../../src/activities/cleanup';
import { createMyTrackerActivities } from '../../src/activities/mytracker';
import type { ActivityDeps } from '../../src/activities/context';
import { readConfig } from '../../src/config';
import { createLogger } from '../../src/util/logger';
import { ALTCRAFT_PATHS, ALTCRAFT_TOKEN_PARAM } from '../../src/providers/altcraft/constants';
import { APSIS_PATHS } from '../../src/providers/apsis/constants';
import type { ApsisReportState } from '../../src/shared/apsis-inputs';
import { FAILURE_TYPES } from '../../src/shared/failure-types';
import { csvBytesOf } from '../../src/simulator';
import { answerBytes, listenLoopback } from '../helpers/downloads';
import { tempDir } from '../helpers/processes';

/**
 * The glue between Temporal activities and the vendor clients, run inside `MockActivityEnvironment` (no Temporal
 * server) against a panel on 127.0.0.1 whose answers each test picks: the Altcraft download token fallback
 * (Bearer -> ?token=), cancellation reaching a running call, and a retried download resuming from the resume
 * point its previous attempt heartbeated. What is checked is what a vendor and a workflow observe (requests,
 * results, failure types), not how often a heartbeat is sent.
 */

const TOKEN = 'glue-test-token-5f1e';

/** MockActivityEnvironment whose `exec` keeps the activity's own argument and result types. */
class ActivityEnvironment extends MockActivityEnvironment {
  exec<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
    return this.run<A, R, (...args: A) => Promise<R>>(fn, ...args);
  }
}

/** One request as the panel saw it. */
interface SeenRequest {
  method: string;
  path: string;
  /** The `?token=` query parameter, if sent. */
  queryToken: string | null;
  authorization: string | undefined;
  range: string | undefined;
  ifRange: string | undefined;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, seen: SeenRequest) => void;

const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** The bytes of a heartbeat's resume point, or undefined when the details carry none. */
function heartbeatOffset(details: unknown): number | undefined {
  if (typeof details !== 'object' || details === null || !('offset' in details)) return undefined;
  return typeof details.offset === 'number' ? details.offset : undefined;
}

function sha256(data: Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** Resolves when `promise` settles, or rejects after `ms` (a cancelled call must stop promptly, not at a timeout). */
/** What `run` rejects with; the test fails with `never` if it resolves instead. */
function rejection(run: Promise<unknown>, never: string): Promise<unknown> {
  return run.then(
    () => assert.fail(never),
    (e: unknown) => e,
  );
}

/** The ApplicationFailure `run` rejects with; the test fails if it resolves or rejects with anything else. */
async function applicationFailure(run: Promise<unknown>, never: string): Promise<ApplicationFailure> {
  const err = await rejection(run, never);
  assert.ok(err instanceof ApplicationFailure, `an ApplicationFailure, got ${String(err)}`);
  return err;
}

async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('activity glue', () => {
  const body = csvBytesOf('glue', 4_000);
  let server: http.Server;
  let base: string;
  let handler: Handler = (_req, res) => res.writeHead(500).end();
  let seen: SeenRequest[] = [];
  /** Resolves on each request's arrival; the cancellation tests wait on it. */
  let arrived: Array<() => void> = [];
  /** Responses the panel is holding open; closed at the end so the server can stop. */
  const open = new Set<http.ServerResponse>();

  before(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://panel');
      const entry: SeenRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        queryToken: url.searchParams.get(ALTCRAFT_TOKEN_PARAM),
        authorization: header(req.headers.authorization),
        range: header(req.headers.range),
        ifRange: header(req.headers['if-range']),
      };
      seen.push(entry);
      open.add(res);
      res.on('close', () => open.delete(res));
      for (const resolve of arrived.splice(0)) resolve();
      handler(req, res, entry);
    });
    base = await listenLoopback(server);
  });
  after(
    () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.close(() => resolve());
      }),
  );
  beforeEach(() => {
    seen = [];
    arrived = [];
  });

  const nextRequest = () => new Promise<void>((resolve) => arrived.push(resolve));

  let exportDir = '';
  let runs = 0;
  /** Activities wired as the worker wires them, with a fresh EXPORT_DIR; `env` overrides worker variables. */
  const activities = (env: Record<string, string> = {}) => {
    exportDir = tempDir('glue');
    const config = readConfig({
      EXPORT_DIR: exportDir,
      ALTCRAFT_BASE_URL: base,
      ALTCRAFT_TOKEN: TOKEN,
      EXPORTFLOW_DOWNLOAD_CONNECTIONS: '1',
      ...env,
    });
    const deps: ActivityDeps = { config, logger: createLogger('silent') };
    return createAltcraftActivities(deps);
  };
  /** A mock activity context of a workflow of its own (so each test has its own export folder). */
  const environment = (workflowId = `glue-${++runs}`, more: { heartbeatDetails?: unknown; attempt?: number } = {}) =>
    new ActivityEnvironment(
      {
        activityType: 'altcraftDownload',
        workflowExecution: { workflowId, runId: '00000000-0000-0000-0000-00000000000' + (runs % 10) },
        ...more,
      },
      // The SDK's own "Activity failed" warnings would bury the test output; the tests check every failure.
      { logger: new DefaultLogger('ERROR') },
    );
  const download = { url: '/download/export-1.csv', fileName: 'data.csv' };

  /** A panel that sends the file only to requests carrying the token in the form(s) it takes. */
  const panelTaking =
    (forms: { bearer: boolean; query: boolean }, refusal = 401): Handler =>
    (req, res, entry) => {
      const bearerOk = forms.bearer && entry.authorization === `Bearer ${TOKEN}`;
      const queryOk = forms.query && entry.queryToken === TOKEN;
      if (!bearerOk && !queryOk) return void res.writeHead(refusal, { 'content-type': 'text/plain' }).end('denied');
      answerBytes(req, res, body, { 'content-type': 'text/csv' });
    };

  describe('Altcraft download token fallback', () => {
    test('a panel that refuses the Bearer header gets the same file once more with ?token=, and says so', async () => {
      const acts = activities();
      handler = panelTaking({ bearer: false, query: true });
      const file = await environment().exec(acts.altcraftDownload, download);

      assert.equal(file.tokenForm, 'query', 'the workflow learns the form that worked');
      assert.equal(file.sha256, sha256(body));
      assert.equal(file.bytes, body.length);
      assert.equal(file.rows, 4_000);
      assert.deepEqual(
        seen.map((r) => ({ path: r.path, bearer: r.authorization !== undefined, query: r.queryToken !== null })),
        [
          { path: download.url, bearer: true, query: false },
          { path: download.url, bearer: false, query: true },
        ],
        'Bearer first, then ?token= alone: the token never travels in both forms at once',
      );
      assert.equal(seen[0]!.authorization, `Bearer ${TOKEN}`);
      assert.ok(fs.readFileSync(file.path).equals(body));
      assert.ok(!JSON.stringify(file).includes(TOKEN), 'the result (history, manifest) never holds the token');
    });

    test('a panel that takes the Bearer header is asked once', async () => {
      const acts = activities();
      handler = panelTaking({ bearer: true, query: false });
      const file = await environment().exec(acts.altcraftDownload, download);
      assert.equal(file.tokenForm, 'bearer');
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.queryToken, null, 'no token in the URL when the header works');
      assert.equal(file.sha256, sha256(body));
    });

    test('the form an earlier file took goes first: one request, the token only in the query', async () => {
      const acts = activities();
      handler = panelTaking({ bearer: false, query: true });
      const file = await environment().exec(acts.altcraftDownload, { ...download, tokenForm: 'query' });
      assert.equal(file.tokenForm, 'query');
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.authorization, undefined);
      assert.equal(seen[0]!.queryToken, TOKEN);
    });

    test('a refused ?token= that an earlier file took is final and does not go back to Bearer', async () => {
      const acts = activities();
      handler = panelTaking({ bearer: true, query: false }, 403);
      const err = await applicationFailure(
        environment().exec(acts.altcraftDownload, { ...download, tokenForm: 'query' }),
        'the download must fail',
      );
      assert.equal(err.type, FAILURE_TYPES.auth);
      assert.equal(err.nonRetryable, true);
      assert.equal(seen.length, 1);
    });

    test('both forms refused: one final auth failure naming both forms and the variable, never the token', async () => {
      const acts = activities();
      handler = panelTaking({ bearer: false, query: false }, 403);
      const err = await applicationFailure(
        environment().exec(acts.altcraftDownload, download),
        'the download must fail',
      );
      assert.equal(err.type, FAILURE_TYPES.auth);
      assert.equal(err.nonRetryable, true, 'Temporal must not retry a refused token');
      assert.match(err.message, /Bearer/);
      assert.match(err.message, /\?token=/);
      assert.match(err.message, /ALTCRAFT_TOKEN/);
      assert.match(err.message, /403/);
      assert.deepEqual(err.details, [{ vendor: 'altcraft', endpoint: 'download', status: 403 }]);
      assert.ok(!JSON.stringify({ m: err.message, d: err.details, s: err.stack }).includes(TOKEN), 'token leaked');
      assert.equal(seen.length, 2, 'each form is tried once');
      assert.deepEqual(
        fs.readdirSync(path.join(exportDir)).flatMap((d) => fs.readdirSync(path.join(exportDir, d))),
        [],
      );
    });

    test('a failure that is not a refusal is not retried with ?token=: it stays retryable for Temporal', async () => {
      const acts = activities();
      handler = (_req, res) => void res.writeHead(503, { 'content-type': 'text/plain' }).end('busy');
      const err = await applicationFailure(
        environment().exec(acts.altcraftDownload, download),
        'the download must fail',
      );
      assert.equal(err.type, FAILURE_TYPES.unavailable);
      assert.equal(err.nonRetryable, false);
      assert.equal(seen.length, 1);
      assert.notEqual(seen[0]!.authorization, undefined);
    });

    test('a worker without ALTCRAFT_TOKEN fails for good before calling the panel, naming the variable', async () => {
      const acts = activities({ ALTCRAFT_TOKEN: '' });
      handler = panelTaking({ bearer: true, query: true });
      const err = await applicationFailure(
        environment().exec(acts.altcraftDownload, download),
        'the download must fail',
      );
      assert.equal(err.type, FAILURE_TYPES.workerMisconfigured);
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /ALTCRAFT_TOKEN/);
      assert.equal(seen.length, 0);
    });
  });
  describe('cancellation reaches the running call', () => {
    /** A response the panel starts and never finishes; `closed` resolves when the client hangs up. */
    const holdOpen = () => {
      let closed!: Promise<void>;
      const hold: Handler = (req, res) => {
        closed = new Promise((resolve) => res.on('close', () => resolve()));
        if (req.url?.startsWith(ALTCRAFT_PATHS.taskStatus)) return; // no answer at all: the call waits for headers
        res.writeHead(200, { 'content-type': 'text/csv', 'content-length': body.length * 10, etag: '"v1"' });
        res.write(body.subarray(0, 64 * 1024));
      };
      return { hold, closed: () => closed };
    };

    test('cancelling a download mid-body closes the connection and ends the activity as cancelled', async () => {
      const acts = activities();
      const panel = holdOpen();
      handler = panel.hold;
      const env = environment();
      const arrivedNow = nextRequest();
      const run = env.exec(acts.altcraftDownload, download);
      await within(10_000, arrivedNow, 'the download request');
      await new Promise((r) => setTimeout(r, 100)); // some of the body is on its way
      env.cancel();
      const err = await within(
        10_000,
        rejection(run, 'a cancelled download must not succeed'),
        'the cancelled download',
      );
      assert.ok(
        err instanceof CancelledFailure,
        `a CancelledFailure (so the export ends cancelled), got ${String(err)}`,
      );
      await within(10_000, panel.closed(), 'the panel seeing the connection closed');
      assert.equal(seen.length, 1, 'no second request after a cancel (no token fallback, no retry)');
      const dir = path.join(exportDir, fs.readdirSync(exportDir)[0] ?? '');
      assert.ok(!fs.existsSync(path.join(dir, download.fileName)), 'nothing under the final name');
    });

    /** A status call the panel holds open, ended by `cancel` once it arrived: what the call rejects with. */
    async function cancelHeldStatusCall(
      cancel: (env: MockActivityEnvironment) => void,
      what: string,
    ): Promise<{ err: unknown; panel: ReturnType<typeof holdOpen> }> {
      const acts = activities();
      const panel = holdOpen();
      handler = panel.hold;
      const env = environment();
      const arrivedNow = nextRequest();
      const run = env.exec(acts.altcraftTaskStatus, { taskId: 'task-1' });
      await within(10_000, arrivedNow, 'the status request');
      cancel(env);
      const err = await within(10_000, rejection(run, `${what} must not succeed`), what);
      return { err, panel };
    }

    test('cancelling a vendor call still waiting for its answer aborts it and ends as cancelled', async () => {
      const { err, panel } = await cancelHeldStatusCall((env) => env.cancel(), 'the cancelled status call');
      assert.ok(err instanceof CancelledFailure, `a CancelledFailure, got ${String(err)}`);
      await within(10_000, panel.closed(), 'the panel seeing the connection closed');
    });

    test('a heartbeat timeout aborts the call too, but is reported as a retryable failure, not a cancel', async () => {
      const { err, panel } = await cancelHeldStatusCall(
        (env) => env.cancel('TIMED_OUT', new ActivityCancellationDetails({ timedOut: true })),
        'the timed-out status call',
      );
      await within(10_000, panel.closed(), 'the panel seeing the connection closed');
      assert.ok(!(err instanceof CancelledFailure), 'only a requested cancel ends as cancelled');
      assert.ok(err instanceof ApplicationFailure, `an ApplicationFailure, got ${String(err)}`);
      assert.equal(err.type, FAILURE_TYPES.unavailable);
      assert.equal(err.nonRetryable, false, 'the next attempt may succeed');
    });
  });

  describe('a retried download resumes from its heartbeat', () => {
    test('an interrupted attempt heartbeats how far it got; the next attempt asks only for the rest', async () => {
      const acts = activities();
      const cut = Math.floor(body.length * 0.6);
      handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/csv', 'content-length': body.length, etag: '"v1"' });
        res.write(body.subarray(0, cut), () => setTimeout(() => res.destroy(), 50));
      };
      // The ?token= form, so a token that slipped into a resume point would show in the heartbeats.
      const viaQuery: Parameters<typeof acts.altcraftDownload>[0] = { ...download, tokenForm: 'query' };
      const workflowId = `glue-resume-${++runs}`;
      const first = environment(workflowId);
      const beats: unknown[] = [];
      first.on('heartbeat', (details: unknown) => beats.push(details));
      const err = await applicationFailure(first.exec(acts.altcraftDownload, viaQuery), 'the cut download must fail');
      assert.equal(err.type, FAILURE_TYPES.integrity);
      assert.equal(err.nonRetryable, false, 'Temporal retries an interrupted download');
      assert.ok(!JSON.stringify(beats).includes(TOKEN), 'heartbeat details (kept in history) never hold the token');
      const last = beats.at(-1);
      const offset = heartbeatOffset(last);
      assert.ok(offset !== undefined && offset > 0 && offset <= cut, `last heartbeat holds the bytes kept: ${offset}`);

      // The retry: what Temporal hands the next attempt is the last heartbeat's details.
      seen = [];
      handler = (req, res) => answerBytes(req, res, body, { 'content-type': 'text/csv' });
      const second = environment(workflowId, { heartbeatDetails: last, attempt: 2 });
      const file = await second.exec(acts.altcraftDownload, viaQuery);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.range, `bytes=${offset}-`, 'only the rest is asked for');
      assert.equal(seen[0]!.ifRange, '"v1"', 'and only if the file is still the one that was cut');
      assert.equal(seen[0]!.queryToken, TOKEN);
      assert.equal(file.tokenForm, 'query');
      assert.equal(file.sha256, sha256(body), 'stored bytes + the rest = the whole file');
      assert.equal(file.bytes, body.length);
      assert.equal(file.rows, 4_000);
      assert.ok(fs.readFileSync(file.path).equals(body));
    });

    test('a heartbeat whose stored part is gone starts clean with a plain request', async () => {
      const acts = activities();
      handler = (req, res) => answerBytes(req, res, body, { 'content-type': 'text/csv' });
      const env = environment(undefined, {
        heartbeatDetails: { offset: 1000, etag: '"v1"', total: body.length },
        attempt: 2,
      });
      const file = await env.exec(acts.altcraftDownload, download);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.range, undefined, 'no Range without the bytes it would continue');
      assert.equal(file.sha256, sha256(body));
    });
  });
  describe('vendor errors on the way out of an activity', () => {
    test('a 429 with Retry-After is a quota block: not retried by Temporal, its reset time handed to the workflow', async () => {
      const acts = activities();
      handler = (_req, res) =>
        void res.writeHead(429, { 'retry-after': '7', 'content-type': 'text/plain' }).end('slow');
      const asked = Date.now();
      const err = await applicationFailure(
        environment().exec(acts.altcraftTaskStatus, { taskId: 'task-1' }),
        'the call must fail',
      );
      assert.equal(err.type, FAILURE_TYPES.rateLimited);
      // Retries would spend the vendor's error budget: the workflow waits until resetAt on a timer instead.
      assert.equal(err.nonRetryable, true);
      const [details] = err.details as [{ vendor: string; endpoint: string; status: number; resetAt: number }];
      assert.deepEqual(
        { vendor: details.vendor, endpoint: details.endpoint, status: details.status },
        { vendor: 'altcraft', endpoint: 'tasks/status', status: 429 },
      );
      assert.ok(
        details.resetAt >= asked + 7_000 && details.resetAt <= Date.now() + 7_000,
        `resetAt ${details.resetAt}`,
      );
      assert.equal(seen[0]?.path, ALTCRAFT_PATHS.taskStatus);
    });

    test('a 429 that says nothing of when stays a retryable VendorRateLimited (Temporal backs off)', async () => {
      const acts = activities();
      handler = (_req, res) => void res.writeHead(429, { 'content-type': 'text/plain' }).end('slow');
      const err = await applicationFailure(
        environment().exec(acts.altcraftTaskStatus, { taskId: 'task-1' }),
        'the call must fail',
      );
      assert.equal(err.type, FAILURE_TYPES.rateLimited);
      assert.equal(err.nonRetryable, false);
    });
  });

  describe('removeExportFiles', () => {
    test("removes the workflow's folder and nothing beside it; a second run is a no-op", async () => {
      exportDir = tempDir('glue');
      const deps: ActivityDeps = { config: readConfig({ EXPORT_DIR: exportDir }), logger: createLogger('silent') };
      const { removeExportFiles } = createFileActivities(deps);
      fs.mkdirSync(path.join(exportDir, 'wf-1'));
      fs.writeFileSync(path.join(exportDir, 'wf-1', 'data.csv'), 'a\n');
      fs.writeFileSync(path.join(exportDir, 'wf-1', '.data2.csv.part'), 'b');
      fs.mkdirSync(path.join(exportDir, 'wf-2'));
      const env = environment('cleanup');
      assert.deepEqual(await env.exec(removeExportFiles, { workflowId: 'wf-1' }), { removed: true });
      assert.deepEqual(fs.readdirSync(exportDir), ['wf-2']);
      assert.deepEqual(await env.exec(removeExportFiles, { workflowId: 'wf-1' }), { removed: false });
      // A hostile id cannot reach past EXPORT_DIR: it names a folder inside it, here one that does not exist.
      assert.deepEqual(await env.exec(removeExportFiles, { workflowId: '../' + path.basename(exportDir) }), {
        removed: false,
      });
      assert.deepEqual(fs.readdirSync(exportDir), ['wf-2']);
    });
  });
  describe('myTracker download links', () => {
    const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
    const mytracker = (baseUrl = base) =>
      createMyTrackerActivities({
        config: readConfig({
          EXPORT_DIR: (exportDir = tempDir('glue')),
          MYTRACKER_BASE_URL: baseUrl,
          MYTRACKER_API_USER_ID: '4242',
          MYTRACKER_API_SECRET: 'glue-mytracker-secret',
          EXPORTFLOW_DOWNLOAD_CONNECTIONS: '1',
        }),
        logger: createLogger('silent'),
      });
    const gz = zlib.gzipSync(body);
    const serveGz: Handler = (req, res) => answerBytes(req, res, gz, { 'content-type': 'application/octet-stream' });

    test('a link past its expiry is reported for a refresh without a request', async () => {
      const acts = mytracker();
      handler = serveGz;
      const link = { link: `${base}/f/a.csv.gz`, expiresAt: Math.floor(Date.now() / 1000) - 10, fileName: 'a.csv.gz' };
      const out = await environment().exec(acts.mytrackerDownload, link);
      assert.ok('expired' in out, 'a refresh, not a failure');
      assert.equal(seen.length, 0);
    });

    test('a link the vendor refuses (403) is reported for a refresh; a 500 stays a retryable failure', async () => {
      const acts = mytracker();
      const link = { link: `${base}/f/a.csv.gz`, expiresAt: inAnHour(), fileName: 'a.csv.gz' };
      handler = (_req, res) => void res.writeHead(403).end('AccessDenied');
      const out = await environment().exec(acts.mytrackerDownload, link);
      assert.ok('expired' in out && /403/.test(out.expired), 'the refresh says why');

      handler = (_req, res) => void res.writeHead(500).end('oops');
      const err = await applicationFailure(
        environment().exec(acts.mytrackerDownload, link),
        'a 500 must fail the attempt',
      );
      assert.equal(err.type, FAILURE_TYPES.unavailable);
      assert.equal(err.nonRetryable, false);
    });

    test('a link on the API host is signed, one on storage elsewhere is not; .csv.gz is stored as gzip CSV', async () => {
      // The API base names another origin (localhost) than the link (127.0.0.1): the link is "object storage".
      const apiElsewhere = mytracker(base.replace('127.0.0.1', 'localhost'));
      handler = serveGz;
      const link = { link: `${base}/f/a.csv.gz`, expiresAt: inAnHour(), fileName: 'a.csv.gz' };
      const out = await environment().exec(apiElsewhere.mytrackerDownload, link);
      assert.ok('stored' in out, 'stored');
      assert.equal(seen[0]?.authorization, undefined, 'no AuthHMAC signature sent to another host');
      assert.equal(out.stored.encoding, 'gzip');
      assert.equal(out.stored.contentType, 'text/csv');
      assert.equal(out.stored.sha256, sha256(gz), 'stored as served');

      seen = [];
      const sameHost = mytracker();
      const signed = await environment().exec(sameHost.mytrackerDownload, link);
      assert.ok('stored' in signed);
      assert.match(seen[0]?.authorization ?? '', /^AuthHMAC /, 'the API host gets the signature');
    });
  });
  describe('APSIS One glue', () => {
    let clients = 0;
    /** APSIS activities with a client id of their own (the worker's token cache is shared by the process). */
    const apsis = (env: Record<string, string> = {}) =>
      createApsisActivities({
        config: readConfig({
          EXPORT_DIR: (exportDir = tempDir('glue')),
          EXPORTFLOW_DATA_DIR: tempDir('glue-data'),
          APSIS_BASE_URL: base,
          APSIS_CLIENT_ID: `glue-client-${++clients}`,
          APSIS_CLIENT_SECRET: 'glue-apsis-secret',
          CALLBACK_SECRET: 'glue-callback-secret-0123456789',
          CALLBACK_PUBLIC_URL: 'https://callbacks.example.test',
          EXPORTFLOW_DOWNLOAD_CONNECTIONS: '1',
          ...env,
        }),
        logger: createLogger('silent'),
      });
    /** Hands out tok-1, tok-2, ... at the token endpoint; `other` answers every other path. */
    const withTokens = (other: Handler): Handler => {
      let issued = 0;
      return (req, res, entry) => {
        if (entry.path !== APSIS_PATHS.token) return other(req, res, entry);
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ access_token: `tok-${++issued}`, expires_in: 3600, token_type: 'Bearer' }));
        });
      };
    };
    const report = (): ApsisReportState => ({
      reportId: 'r-1',
      pollUrl: `${base}/poll/r-1`,
      pollKind: 'v2',
      validUntil: new Date(Date.now() + 3_600_000).toISOString(),
    });

    test('a poll says "not ready" with the Retry-After, then stores the file when it is there', async () => {
      const acts = apsis();
      let ready = false;
      handler = withTokens((req, res) => {
        if (!ready) return void res.writeHead(202, { 'retry-after': '3' }).end();
        answerBytes(req, res, body, { 'content-type': 'text/csv' });
      });
      const waiting = await environment().exec(acts.apsisPollSegmentReport, { report: report(), format: 'csv' });
      assert.deepEqual(waiting, { state: 'notReady', status: 202, retryAfterMs: 3_000 });
      ready = true;
      const done = await environment().exec(acts.apsisPollSegmentReport, { report: report(), format: 'csv' });
      assert.equal(done.state, 'stored');
      assert.ok(done.state === 'stored' && done.file.sha256 === sha256(body) && done.file.rows === 4_000);
      assert.equal(seen.filter((r) => r.path === APSIS_PATHS.token).length, 1, 'one token serves both polls');
    });

    test('a poll whose token is rejected gets one new token and one more try in the same attempt', async () => {
      const acts = apsis();
      handler = withTokens((req, res, entry) => {
        if (entry.authorization !== 'Bearer tok-2') return void res.writeHead(401).end();
        answerBytes(req, res, body, { 'content-type': 'text/csv' });
      });
      const done = await environment().exec(acts.apsisPollSegmentReport, { report: report(), format: 'csv' });
      assert.equal(done.state, 'stored');
      assert.deepEqual(
        seen.map((r) => (r.path === APSIS_PATHS.token ? 'token' : r.authorization)),
        ['token', 'Bearer tok-1', 'token', 'Bearer tok-2'],
      );
    });

    test('the callback URL and its token go to APSIS only; the result (history) holds the public base', async () => {
      const acts = apsis();
      let sentBody = '';
      handler = withTokens((req, res) => {
        req.setEncoding('utf8');
        req.on('data', (d: string) => (sentBody += d));
        req.on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{}'));
      });
      const out = await environment('wf-profile').exec(acts.apsisRequestProfileExport, {
        exportKey: 'profile-1',
        history: false,
        typeDefinitions: false,
        merged: false,
      });
      assert.deepEqual(out, { callbackBase: 'https://callbacks.example.test' });
      const sent: unknown = JSON.parse(sentBody);
      assert.ok(typeof sent === 'object' && sent !== null && 'callback_url' in sent);
      const callbackUrl = String(sent.callback_url);
      assert.match(callbackUrl, /^https:\/\/callbacks\.example\.test\/.*wf-profile\/[A-Za-z0-9_-]{16,}$/);
      const callbackToken = callbackUrl.split('/').pop() ?? '';
      assert.ok(!JSON.stringify(out).includes(callbackToken), 'the callback token stays out of history');
    });

    test('CALLBACK_PUBLIC_URL on port 0 fails for good before asking APSIS', async () => {
      const acts = apsis({ CALLBACK_PUBLIC_URL: 'http://127.0.0.1:0' });
      handler = withTokens((_req, res) => void res.writeHead(202).end('{}'));
      const err = await applicationFailure(
        environment().exec(acts.apsisRequestProfileExport, {
          exportKey: 'profile-1',
          history: false,
          typeDefinitions: false,
          merged: false,
        }),
        'must fail',
      );
      assert.equal(err.type, FAILURE_TYPES.workerMisconfigured);
      assert.match(err.message, /CALLBACK_PUBLIC_URL/);
      assert.equal(seen.length, 0);
    });
  });
});
