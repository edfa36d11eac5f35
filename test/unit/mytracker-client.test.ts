import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ClassifiedError } from '../../src/providers/errors';
import {
  MyTrackerClient,
  interpretStatus,
  isLinkExpired,
  parseProgress,
  resolveLink,
} from '../../src/providers/mytracker/client';
import { MyTrackerInputSchema } from '../../src/shared/inputs';
import { startSimulator, type Simulator } from '../../src/simulator';
import { MYTRACKER_DEFAULTS } from '../../src/simulator/mytracker';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

const isClassifiedError = (type: string, retryable: boolean, message?: RegExp) => (err: unknown) =>
  err instanceof ClassifiedError &&
  err.type === type &&
  err.retryable === retryable &&
  (!message || message.test(err.message));

describe('myTracker status mapping table', () => {
  const now = Date.UTC(2026, 0, 1);
  const inAnHour = String(now / 1000 + 3600);

  test('"In progress" keeps polling, with "64%" parsed into 64', () => {
    assert.deepEqual(interpretStatus('1', { status: 'In progress', progress: '64%' }, now), {
      state: 'running',
      status: 'In progress',
      progress: 64,
    });
    assert.deepEqual(parseProgress('7.5 %'), 7.5);
    assert.equal(parseProgress('lots'), null);
    assert.equal(parseProgress('140%'), null);
    assert.equal(parseProgress(undefined), null);
  });

  test('"Error occurred" is reported, not thrown: the workflow decides whether to wait or request anew', () => {
    assert.deepEqual(interpretStatus('1', { status: 'Error occurred' }, now), {
      state: 'errorOccurred',
      status: 'Error occurred',
    });
  });

  test('"User error occurred" and "Canceled by user" are final failures with those words', () => {
    assert.throws(
      () => interpretStatus('9', { status: 'User error occurred', errorMessage: 'Segment is empty' }, now),
      isClassifiedError(FAILURE_TYPES.jobFailed, false, /export 9: User error occurred: Segment is empty/),
    );
    assert.throws(
      () => interpretStatus('9', { status: 'Canceled by user' }, now),
      isClassifiedError(FAILURE_TYPES.jobFailed, false, /Canceled by user/),
    );
  });

  test('"Success!" lists every file with its expiry; links already past it are flagged', () => {
    const state = interpretStatus(
      '1',
      {
        status: 'Success!',
        files: [
          { link: 'https://tracker.my.com/storage/download/segment/1.1.aa.csv.gz', timestampExpires: inAnHour },
          { link: 'https://tracker.my.com/storage/download/segment/1.2.bb.csv.gz', timestampExpires: '1617197992' },
        ],
      },
      now,
    );
    assert.equal(state.state, 'done');
    assert.deepEqual(state.state === 'done' && state.files.map((f) => [f.expiresAt, f.expired]), [
      [now / 1000 + 3600, false],
      [1617197992, true],
    ]);
    assert.throws(
      () => interpretStatus('1', { status: 'Success!', files: [] }, now),
      isClassifiedError(FAILURE_TYPES.response, false, /no files/),
    );
  });

  test('an unknown status word is a typed failure naming the word', () => {
    assert.throws(
      () => interpretStatus('1', { status: 'Exploded' }, now),
      isClassifiedError(FAILURE_TYPES.response, false, /"Exploded"/),
    );
  });

  test('a link within a few seconds of expiry counts as expired', () => {
    assert.equal(isLinkExpired(now / 1000 + 2, now), true);
    assert.equal(isLinkExpired(now / 1000 + 60, now), false);
  });

  test('links on any https host are taken (object storage); http only when the API base is http', () => {
    assert.equal(
      resolveLink('https://tracker.my.com', '/storage/download/segment/1.csv.gz'),
      'https://tracker.my.com/storage/download/segment/1.csv.gz',
    );
    const storage = 'https://rawdata.hb.bizmrg.com/segment/2022.06.15/16.1460.abc.csv.gz';
    assert.equal(resolveLink('https://tracker.my.com', storage), storage);
    assert.throws(
      () => resolveLink('https://tracker.my.com', 'http://rawdata.hb.bizmrg.com/1.csv.gz'),
      isClassifiedError(FAILURE_TYPES.response, false, /scheme "http:".*only https links/),
    );
    assert.equal(
      resolveLink('http://127.0.0.1:1', 'http://127.0.0.2:2/segment/1.csv.gz'),
      'http://127.0.0.2:2/segment/1.csv.gz',
    );
    for (const bad of ['file:///etc/passwd', 'ftp://rawdata.hb.bizmrg.com/1.csv.gz', 'javascript:alert(1)']) {
      assert.throws(
        () => resolveLink('http://127.0.0.1:1', bad),
        isClassifiedError(FAILURE_TYPES.response, false),
        bad,
      );
    }
    assert.equal(
      resolveLink('https://tracker.my.com', 'https://u:p@s3.example/1.csv.gz'),
      'https://s3.example/1.csv.gz',
    );
  });

  test('AuthHMAC goes only to the API origin: a storage link gets no credentials', () => {
    const api = new MyTrackerClient({ baseUrl: 'https://tracker.my.com', userId: '77658', secret: 's3cret' });
    const own = api.downloadTarget('https://tracker.my.com/storage/download/segment/1.1.aa.csv.gz');
    assert.match(own.headers.authorization ?? '', /^AuthHMAC 77658:/);
    for (const link of [
      'https://rawdata.hb.bizmrg.com/segment/2022.06.15/16.1460.abc.csv.gz',
      'https://tracker.my.com:8443/storage/download/segment/1.csv.gz',
      'https://tracker.my.com.evil.example/x.csv.gz',
    ]) {
      assert.deepEqual(api.downloadTarget(link).headers, {}, link);
    }
  });
});

describe('myTracker input', () => {
  test('exactly one of segmentId and exportId; fields only when creating', () => {
    assert.equal(MyTrackerInputSchema.safeParse({ segmentId: 5, fields: ['idDevice'] }).success, true);
    assert.equal(MyTrackerInputSchema.parse({ exportId: 1234 }).exportId, '1234');
    assert.equal(MyTrackerInputSchema.parse({ exportId: '1234' }).exportId, '1234');
    const problems = [{}, { segmentId: 5, exportId: '7' }, { exportId: '7', fields: ['a'] }, { exportId: 'abc' }];
    for (const input of problems)
      assert.equal(MyTrackerInputSchema.safeParse(input).success, false, JSON.stringify(input));
  });
});

describe('myTracker client against the simulator over HTTP', () => {
  let sim: Simulator;
  let api: MyTrackerClient;
  before(async () => {
    sim = await startSimulator({ mytracker: { exportDurationMs: 0, files: 2 } });
    api = new MyTrackerClient({
      baseUrl: sim.url,
      userId: sim.credentials.mytrackerUserId,
      secret: sim.credentials.mytrackerSecret,
    });
  });
  after(() => sim.close());
  beforeEach(() => {
    sim.reset();
    Object.assign(sim.mytracker.config, { ...MYTRACKER_DEFAULTS, exportDurationMs: 0, files: 2 });
  });

  test('signed create (POST with query parameters) and get; the storage link is fetched unsigned', async () => {
    const id = await api.createExport({ segmentId: 77, fields: ['idDevice', 'tsInstall'] });
    const [created] = sim.mytracker.exports();
    assert.deepEqual(created!.query, {
      idSegment: '77',
      includeHeaderLine: '1',
      requestFields: 'idDevice,tsInstall',
    });
    const state = await api.exportStatus(id);
    assert.equal(state.state, 'done');
    const files = state.state === 'done' ? state.files : [];
    assert.equal(files.length, 2);
    const target = api.downloadTarget(files[0]!.link);
    assert.ok(target.url.startsWith(sim.storageUrl), target.url);
    assert.deepEqual(target.headers, {}, 'no AuthHMAC to object storage');
    const res = await fetch(target.url, { headers: target.headers });
    assert.equal(res.status, 200);
    assert.ok(
      sim.requests.every((r) => r.status === 200),
      JSON.stringify(sim.requests.map((r) => r.status)),
    );
    assert.deepEqual(
      sim.requests.map((r) => [r.endpoint, r.hadAuthorization]),
      [
        ['create', true],
        ['get', true],
        ['download', false],
      ],
    );
  });

  test('on the seed 004 variant (links on the API host) the download is signed and accepted', async () => {
    sim.mytracker.config.storageHost = 'api';
    try {
      const id = await api.createExport({ segmentId: 78 });
      const state = await api.exportStatus(id);
      const link = state.state === 'done' ? state.files[0]!.link : '';
      const target = api.downloadTarget(link);
      assert.ok(target.url.startsWith(`${sim.url}/storage/download/`), target.url);
      assert.match(target.headers.authorization!, /^AuthHMAC 10001:[A-Za-z0-9+/]+=*$/);
      assert.equal((await fetch(target.url, { headers: target.headers })).status, 200);
    } finally {
      sim.mytracker.config.storageHost = 'storage';
    }
  });

  test('an unknown export id fails with the vendor detail; not retryable', async () => {
    await assert.rejects(
      api.exportStatus('999999'),
      isClassifiedError(
        FAILURE_TYPES.request,
        false,
        /export 999999 not found \(HTTP 404\): "Segment export request not found"/,
      ),
    );
  });

  test('a wrong secret is "Access denied", final, and names the variables to check', async () => {
    const wrong = new MyTrackerClient({ baseUrl: sim.url, userId: sim.credentials.mytrackerUserId, secret: 'nope' });
    await assert.rejects(
      wrong.createExport({ segmentId: 1 }),
      isClassifiedError(FAILURE_TYPES.auth, false, /Access denied \(HTTP 403\).*MYTRACKER_API_SECRET/),
    );
  });

  test('a 429 with Retry-After is a quota block (not retried) ending then', async () => {
    sim.faults.add({
      vendor: 'mytracker',
      endpoint: 'get',
      kind: 'status',
      status: 429,
      headers: { 'Retry-After': '7' },
      body: { code: 429, message: 'Too Many Requests', data: null },
    });
    const asked = Date.now();
    await assert.rejects(api.exportStatus('1'), (err: unknown) => {
      assert.ok(err instanceof ClassifiedError);
      assert.equal(err.type, FAILURE_TYPES.rateLimited);
      // A quota block with a known end: the workflow waits it out on a timer, the activity does not retry it.
      assert.equal(err.retryable, false);
      const resetAt = err.details.resetAt ?? 0;
      assert.ok(resetAt >= asked + 7000 && resetAt <= Date.now() + 7000, `resetAt ${resetAt}`);
      return true;
    });
  });

  test('an HTML error page is a typed response error, not a crash', async () => {
    sim.faults.add({ vendor: 'mytracker', endpoint: 'get', kind: 'html' });
    await assert.rejects(api.exportStatus('1'), isClassifiedError(FAILURE_TYPES.response, false, /HTML/));
  });
});
