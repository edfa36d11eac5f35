/* eslint-disable @typescript-eslint/no-explicit-any -- vendor JSON is read field by field */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  countCsvRecords,
  csvBytesOf,
  mytrackerAuthorization,
  mytrackerBaseline,
  mytrackerSignature,
  mytrackerUrlencode,
  startSimulator,
  type Simulator,
} from '../../src/simulator';
import { MYTRACKER_DEFAULTS } from '../../src/simulator/mytracker';
import { json, rawRequest, signedRequest } from '../../src/simulator/probe';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('myTracker signing (own implementation, documented test vector)', () => {
  it('reproduces the vendor test vector', () => {
    const baseline = mytrackerBaseline('GET', 'https://tracker.my.com/api/raw/v1/export/get.json?idReport=4', '');
    assert.equal(baseline, 'GET&https%3A%2F%2Ftracker.my.com%2Fapi%2Fraw%2Fv1%2Fexport%2Fget.json%3FidReport%3D4&');
    assert.equal(mytrackerSignature('72d2erEtbynf6f7ZYTsYKnb7', baseline), 'PqrQR8zsgQU9Qcocjp6T6hnjF8Y=');
  });

  it('form-encodes: only letters, digits and _.-~ stay; space is +; hex is upper-case; UTF-8 bytes', () => {
    assert.equal(mytrackerUrlencode("a-b_c.d~e f/g:h*i!j(k)l'm,é"), 'a-b_c.d~e+f%2Fg%3Ah%2Ai%21j%28k%29l%27m%2C%C3%A9');
  });
});

describe('simulator: myTracker', () => {
  let sim: Simulator;
  let creds: { userId: string; secret: string };
  const api = (path: string): string => `${sim.url}${path}`;
  const create = async (query = 'idSegment=77'): Promise<string> => {
    const res = await signedRequest(api(`/api/segment/v1/export/create.json?${query}`), creds, { method: 'POST' });
    assert.equal(res.status, 200, res.body.toString());
    const body = json(res);
    assert.deepEqual([body.code, body.message, typeof body.data.idSegmentExport], [200, 'Ok', 'string']);
    return body.data.idSegmentExport;
  };
  const get = async (id: string): Promise<any> =>
    json(await signedRequest(api(`/api/segment/v1/export/get.json?idSegmentExport=${id}`), creds));

  before(async () => {
    sim = await startSimulator({ mytracker: { exportDurationMs: 100 } });
    creds = { userId: sim.credentials.mytrackerUserId, secret: sim.credentials.mytrackerSecret };
  });
  after(() => sim.close());
  beforeEach(() => {
    sim.reset();
    Object.assign(sim.mytracker.config, { ...MYTRACKER_DEFAULTS, exportDurationMs: 100 });
    delete sim.mytracker.config.userError;
    delete sim.mytracker.config.canceled;
  });

  it('seed 004 variant (links on the API host, header in every file): signed round trip, gzip files', async () => {
    Object.assign(sim.mytracker.config, { storageHost: 'api', headerInEveryFile: true });
    const id = await create();
    const first = await get(id);
    assert.equal(first.data.status, 'In progress');
    assert.match(first.data.progress, /^\d{1,2}%$/);
    await sleep(110);
    const done = await get(id);
    assert.equal(done.data.status, 'Success!');
    assert.equal(done.data.files.length, 3);
    for (const [k, f] of (done.data.files as Array<{ link: string; timestampExpires: string }>).entries()) {
      assert.match(
        f.link,
        new RegExp(`^${sim.url}/storage/download/segment/${id}\\.${k + 1}\\.[0-9a-f]{32}\\.csv\\.gz$`),
      );
      assert.match(f.timestampExpires, /^\d+$/);
      assert.ok(Number(f.timestampExpires) >= Math.floor(Date.now() / 1000) + 3590);
      const res = await signedRequest(f.link, creds);
      assert.equal(res.status, 200);
      const csv = gunzipSync(res.body);
      assert.ok(csv.equals(csvBytesOf(`mytracker:77:${k}`, 40)));
      assert.equal(countCsvRecords(csv), 41);
      const served = sim.mytracker.served[k]!;
      assert.deepEqual(
        [served.sha256, served.decodedSha256, served.rows, served.encoding],
        [sha256(res.body), sha256(csv), 40, 'gzip'],
      );
    }
    assert.equal(sim.count({ vendor: 'mytracker', endpoint: 'download' }), 3);
    assert.ok(sim.requests.every((r) => r.hadAuthorization));
  });

  it('by default links are on object storage at another origin: no signature needed, Range served, header in file 1 only', async () => {
    const id = await create();
    await sleep(110);
    const done = await get(id);
    const links = (done.data.files as Array<{ link: string }>).map((f) => f.link);
    assert.notEqual(new URL(sim.storageUrl).origin, new URL(sim.url).origin);
    for (const [k, link] of links.entries()) {
      assert.match(
        link,
        new RegExp(`^${sim.storageUrl}/segment/\\d{4}\\.\\d{2}\\.\\d{2}/${id}\\.${k + 1}\\.[0-9a-f]{32}\\.csv\\.gz$`),
      );
      // Authorization is ignored there: none, or a bogus one, is served alike.
      const headers = k === 1 ? { Authorization: 'AuthHMAC 1:bogus' } : undefined;
      const res = await rawRequest(link, headers ? { headers } : {});
      assert.equal(res.status, 200);
      const csv = gunzipSync(res.body);
      assert.ok(csv.equals(csvBytesOf(`mytracker:77:${k}`, 40, { header: k === 0 })), `file ${k + 1}`);
      assert.equal(countCsvRecords(csv), k === 0 ? 41 : 40);
    }
    const ranged = await rawRequest(links[2]!, { headers: { Range: 'bytes=10-' } });
    assert.equal(ranged.status, 206);
    assert.equal(sim.count({ vendor: 'mytracker', endpoint: 'download' }), 4);
    assert.equal(
      (await signedRequest(api(new URL(links[0]!).pathname), creds)).status,
      404,
      'the storage path is not served on the API host',
    );
  });

  it('storageRequiresSignature: the storage host refuses unsigned or wrongly signed links, serves signed ones', async () => {
    Object.assign(sim.mytracker.config, { storageRequiresSignature: true });
    const id = await create();
    await sleep(110);
    const link = (await get(id)).data.files[0].link as string;
    const unsigned = await rawRequest(link);
    assert.deepEqual([unsigned.status, json(unsigned)], [403, { code: 403, message: 'Access denied', data: null }]);
    const otherLink = (await get(id)).data.files[1].link as string;
    const signedForOther = mytrackerAuthorization(creds.userId, creds.secret, 'GET', otherLink, '');
    assert.equal((await rawRequest(link, { headers: { Authorization: signedForOther } })).status, 403);
    assert.equal((await signedRequest(link, { ...creds, secret: 'wrong' })).status, 403);
    const signed = await signedRequest(link, creds);
    assert.equal(signed.status, 200);
    assert.ok(gunzipSync(signed.body).equals(csvBytesOf('mytracker:77:0', 40, { header: true })));
    sim.mytracker.config.storageRefusalStatus = 401;
    assert.equal((await rawRequest(link)).status, 401);
  });

  it('403 "Access denied" for a missing or wrong signature, or a signature over another URL', async () => {
    const url = api('/api/segment/v1/export/create.json?idSegment=1');
    const none = await rawRequest(url, { method: 'POST' });
    assert.deepEqual([none.status, json(none)], [403, { code: 403, message: 'Access denied', data: null }]);
    assert.equal((await signedRequest(url, { ...creds, secret: 'wrong' }, { method: 'POST' })).status, 403);
    const otherUrl = await signedRequest(url.replace('127.0.0.1', 'localhost'), creds, { method: 'POST' });
    assert.equal(otherUrl.status, 200, 'signing the URL the client really used (localhost) is fine');
    const auth = mytrackerAuthorization(creds.userId, creds.secret, 'POST', `${url}&x=1`, '');
    assert.equal((await rawRequest(url, { method: 'POST', headers: { Authorization: auth } })).status, 403);
    assert.equal(
      (await signedRequest(url, creds, { method: 'POST', body: 'a=1' })).status,
      200,
      'the body is part of the baseline',
    );
  });

  it('400 for a non-numeric idSegment, 404 with detail for an unknown export', async () => {
    const bad = await signedRequest(api('/api/segment/v1/export/create.json?idSegment=abc'), creds, { method: 'POST' });
    assert.equal(bad.status, 400);
    const res = await signedRequest(api('/api/segment/v1/export/get.json?idSegmentExport=999999'), creds);
    assert.equal(res.status, 404);
    assert.deepEqual(json(res), {
      code: 404,
      message: 'Not Found',
      data: { error: { detail: 'Segment export request not found' } },
    });
  });

  it('"Error occurred" for the first N exports; later ones succeed', async () => {
    Object.assign(sim.mytracker.config, { exportDurationMs: 0, errorOccurredTimes: 1 });
    const first = await create();
    assert.equal((await get(first)).data.status, 'Error occurred');
    assert.equal((await get(first)).data.status, 'Error occurred', 'it persists for that export');
    assert.equal((await get(await create())).data.status, 'Success!');
  });

  it('"User error occurred" with errorMessage, and "Canceled by user"', async () => {
    Object.assign(sim.mytracker.config, { exportDurationMs: 0, userError: 'Segment is empty' });
    const u = await get(await create());
    assert.deepEqual([u.data.status, u.data.errorMessage], ['User error occurred', 'Segment is empty']);
    delete sim.mytracker.config.userError;
    sim.mytracker.config.canceled = true;
    assert.equal((await get(await create())).data.status, 'Canceled by user');
  });

  it('an expired link is 410; polling get.json again issues a fresh expiry', async () => {
    Object.assign(sim.mytracker.config, { exportDurationMs: 0, linkTtlSec: -1, files: 1 });
    const id = await create();
    const stale = (await get(id)).data.files[0];
    assert.equal((await signedRequest(stale.link, creds)).status, 410);
    sim.mytracker.config.linkTtlSec = 3600;
    const fresh = (await get(id)).data.files[0];
    assert.ok(Number(fresh.timestampExpires) > Number(stale.timestampExpires));
    assert.equal((await signedRequest(fresh.link, creds)).status, 200);
  });

  it('resumes a gzip file with Range', async () => {
    Object.assign(sim.mytracker.config, { exportDurationMs: 0, files: 1, rowsPerFile: 500 });
    const link = (await get(await create())).data.files[0].link;
    const full = await signedRequest(link, creds);
    const tail = await signedRequest(link, creds, { headers: { Range: 'bytes=100-' } });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers['content-range'], `bytes 100-${full.body.length - 1}/${full.body.length}`);
    assert.ok(Buffer.concat([full.body.subarray(0, 100), tail.body]).equals(full.body));
  });

  it('over the per-second quota: the documented 429 body, no Retry-After, open again when the second ends', async () => {
    Object.assign(sim.mytracker.config, { requestsPerSecond: 3 });
    const url = api('/api/segment/v1/export/get.json?idSegmentExport=1');
    // Windows are clock-aligned: start just after a second begins so four calls share it.
    await sleep(1010 - (Date.now() % 1000));
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await signedRequest(url, creds)).status);
    assert.deepEqual(statuses, [404, 404, 404, 429]);
    const limited = await signedRequest(url, creds);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], undefined);
    const body = json(limited) as { code: number; data: { error: { info: { quotas: Record<string, unknown>[] } } } };
    assert.equal(body.code, 429);
    const [quota] = body.data.error.info.quotas;
    assert.equal(quota!.name, 'RequestsByUserPerSecond');
    assert.equal(quota!.exceeded, true);
    assert.equal(quota!.resetInSecond, 1);
    await sleep(1000);
    assert.equal((await signedRequest(url, creds)).status, 404);
  });

  it('over the per-hour quota: blocked until the end of the hour; counters per user on the admin endpoint', async () => {
    Object.assign(sim.mytracker.config, { requestsPerHour: 2 });
    const url = api('/api/segment/v1/export/get.json?idSegmentExport=1');
    await signedRequest(url, creds);
    await signedRequest(url, creds);
    const limited = await signedRequest(url, creds);
    assert.equal(limited.status, 429);
    const quota = (json(limited) as { data: { error: { info: { quotas: Record<string, number>[] } } } }).data.error.info
      .quotas[0]!;
    const endOfHour = Math.ceil(Date.now() / 3_600_000) * 3600;
    assert.equal(quota.resetTime, endOfHour);
    assert.ok(quota.resetInSecond! > 0 && quota.resetInSecond! <= 3600);
    const admin = (await fetch(api('/__sim/quotas')).then((r) => r.json())) as {
      mytracker: Record<string, { accepted: number; refused: number; windows: Record<string, { maxFixed: number }> }>;
    };
    const user = admin.mytracker[creds.userId]!;
    assert.equal(user.accepted, 2);
    assert.equal(user.refused, 1);
    assert.equal(user.windows.RequestsByUserPerHour!.maxFixed, 2);
  });

  it('about 60 erroneous requests a minute block the user, even for correct requests', async () => {
    Object.assign(sim.mytracker.config, { erroneousPerMinute: 4 });
    const bad = api('/api/segment/v1/export/get.json?idSegmentExport=999999');
    for (let i = 0; i < 4; i++) assert.equal((await signedRequest(bad, creds)).status, 404);
    const good = await signedRequest(api('/api/segment/v1/export/create.json?idSegment=5'), creds, { method: 'POST' });
    assert.equal(good.status, 429);
    const quota = (json(good) as { data: { error: { info: { quotas: Record<string, unknown>[] } } } }).data.error.info
      .quotas[0]!;
    assert.equal(quota.name, 'ErroneousRequestsByUserPerMinute');
  });
});
