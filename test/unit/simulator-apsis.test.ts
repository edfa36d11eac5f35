/* eslint-disable @typescript-eslint/no-explicit-any -- vendor JSON is read field by field */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { APSIS_CSV_TYPE, XLSX_TYPE, csvBytesOf, startSimulator, type Simulator } from '../../src/simulator';
import { APSIS_DEFAULTS } from '../../src/simulator/apsis';
import { json, postJson, rawRequest } from '../../src/simulator/probe';
import { ProfileDocumentSchema } from '../helpers/apsis';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A callback receiver that records POSTs and answers with the next queued status (default 200). */
async function startReceiver(): Promise<{
  url: string;
  got: Array<{ path: string; body: any }>;
  answers: number[];
  server: Server;
}> {
  const got: Array<{ path: string; body: any }> = [];
  const answers: number[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      got.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(parts).toString() || 'null') });
      res.statusCode = answers.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got, answers, server };
}

async function until<T>(fn: () => T | undefined, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('simulator: APSIS One', () => {
  let sim: Simulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let auth: Record<string, string>;
  const api = (path: string): string => `${sim.url}${path}`;
  const reportBody = {
    section_discriminator: 'com.example.section',
    segments: { segment_discriminators: { vip: 'com.example.segment.vip' }, filter: 'vip' },
    attributes: ['email'],
    tags: [],
  };
  const requestReport = async (): Promise<string> => {
    const res = await postJson(api('/audience/profiles/reports/segments'), reportBody, auth);
    assert.equal(res.status, 200, res.body.toString());
    const body = json(res);
    assert.ok(body.id);
    return body.file_download_url_v2 ?? body.file_download_url ?? body.poll_url;
  };

  before(async () => {
    sim = await startSimulator({ apsis: { reportReadyAfterMs: 100, callbackDelayMs: 30, callbackRetryDelayMs: 30 } });
    receiver = await startReceiver();
    const tok = await postJson(api('/oauth/token'), {
      grant_type: 'client_credentials',
      client_id: sim.credentials.apsisClientId,
      client_secret: sim.credentials.apsisClientSecret,
    });
    assert.equal(tok.status, 200);
    const body = json(tok);
    // A JWT whose exp is the documented lifetime away; the deprecated expires_in is left out by default.
    assert.deepEqual([body.token_type, body.expires_in, typeof body.access_token], ['Bearer', undefined, 'string']);
    const claims = JSON.parse(Buffer.from(String(body.access_token).split('.')[1]!, 'base64url').toString('utf8'));
    assert.ok(Math.abs(claims.exp - (Date.now() / 1000 + 86400)) < 60, JSON.stringify(claims));
    auth = { Authorization: `Bearer ${body.access_token}` };
  });
  after(async () => {
    await sim.close();
    receiver.server.closeAllConnections();
    await new Promise((r) => receiver.server.close(r));
  });
  beforeEach(() => {
    sim.reset();
    receiver.got.length = 0;
    receiver.answers.length = 0;
    Object.assign(sim.apsis.config, {
      ...APSIS_DEFAULTS,
      reportReadyAfterMs: 100,
      callbackDelayMs: 30,
      callbackRetryDelayMs: 30,
    });
  });

  it('refuses bad client credentials and calls without a valid bearer token; expired tokens need a refresh', async () => {
    const bad = await postJson(api('/oauth/token'), {
      grant_type: 'client_credentials',
      client_id: 'x',
      client_secret: 'y',
    });
    assert.equal(bad.status, 401);
    assert.equal(json(bad).error, 'invalid_client');
    assert.equal((await postJson(api('/audience/profiles/reports/segments'), reportBody)).status, 401);
    const tok = json(
      await postJson(api('/oauth/token'), {
        grant_type: 'client_credentials',
        client_id: sim.credentials.apsisClientId,
        client_secret: sim.credentials.apsisClientSecret,
      }),
    );
    const mine = { Authorization: `Bearer ${tok.access_token}` };
    assert.equal((await postJson(api('/audience/profiles/reports/segments'), reportBody, mine)).status, 200);
    sim.apsis.expireTokens();
    assert.equal((await postJson(api('/audience/profiles/reports/segments'), reportBody, mine)).status, 401);
    const fresh = json(
      await postJson(api('/oauth/token'), {
        grant_type: 'client_credentials',
        client_id: sim.credentials.apsisClientId,
        client_secret: sim.credentials.apsisClientSecret,
      }),
    );
    auth = { Authorization: `Bearer ${fresh.access_token}` };
    assert.equal((await postJson(api('/audience/profiles/reports/segments'), reportBody, auth)).status, 200);
  });

  it('v2 poll URL: 202 until ready, then the CSV; 404 for an invalid id', async () => {
    const url = await requestReport();
    assert.ok(url.startsWith(`${sim.url}/`), url);
    assert.equal((await rawRequest(url, { headers: auth })).status, 202);
    await sleep(120);
    const file = await rawRequest(url, { headers: auth });
    assert.equal(file.status, 200);
    assert.equal(file.headers['content-type'], APSIS_CSV_TYPE);
    const expected = csvBytesOf('apsis:com.example.section:com.example.segment.vip', 50);
    assert.ok(file.body.equals(expected));
    assert.equal(sim.apsis.served[0]?.sha256, sha256(expected));
    // The same URL downloads again while valid.
    assert.ok((await rawRequest(url, { headers: auth })).body.equals(expected));
    assert.equal((await rawRequest(url.replace(/[0-9a-f]{12}$/, '000000000000'), { headers: auth })).status, 404);
  });

  it('older poll URLs (file_download_url, poll_url): 404 until ready, 410 for an invalid id', async () => {
    for (const kind of ['v1', 'poll_url'] as const) {
      sim.apsis.config.pollUrlKind = kind;
      const res = json(await postJson(api('/audience/profiles/reports/segments'), reportBody, auth));
      const url = kind === 'v1' ? res.file_download_url : res.poll_url;
      assert.equal(res.file_download_url_v2, undefined);
      assert.equal((await rawRequest(url, { headers: auth })).status, 404);
      await sleep(120);
      assert.equal((await rawRequest(url, { headers: auth })).status, 200);
      assert.equal((await rawRequest(`${url}x`, { headers: auth })).status, 410);
    }
  });

  it('negotiates gzip and XLSX on the same URL', async () => {
    sim.apsis.config.reportReadyAfterMs = 0;
    const url = await requestReport();
    const plain = csvBytesOf('apsis:com.example.section:com.example.segment.vip', 50);
    const gz = await rawRequest(url, { headers: { ...auth, 'Accept-Encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gunzipSync(gz.body).equals(plain));
    const servedGz = sim.apsis.served[0]!;
    assert.deepEqual(
      [servedGz.encoding, servedGz.sha256, servedGz.decodedSha256],
      ['gzip', sha256(gz.body), sha256(plain)],
    );
    const x = await rawRequest(url, { headers: { ...auth, Accept: XLSX_TYPE } });
    assert.equal(x.headers['content-type'], XLSX_TYPE);
    assert.equal(x.body.subarray(0, 4).toString('binary'), 'PK\x03\x04');
    assert.ok(x.body.includes(Buffer.from('xl/worksheets/sheet1.xml')));
    const again = await rawRequest(url, { headers: { ...auth, Accept: XLSX_TYPE } });
    assert.ok(again.body.equals(x.body), 'XLSX bytes are deterministic');
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(
      (await rawRequest(url, { headers: { ...auth, 'Accept-Encoding': 'gzip;q=0' } })).headers['content-encoding'],
      undefined,
    );
  });

  it('413 for too many columns or a body over 100 kB; 400 for a malformed request', async () => {
    const many = {
      ...reportBody,
      attributes: Array.from({ length: 40 }, (_, i) => `a${i}`),
      tags: Array.from({ length: 20 }, (_, i) => `t${i}`),
    };
    assert.equal((await postJson(api('/audience/profiles/reports/segments'), many, auth)).status, 413);
    const big = { ...reportBody, segments: { ...reportBody.segments, filter: 'x'.repeat(110_000) } };
    assert.equal((await postJson(api('/audience/profiles/reports/segments'), big, auth)).status, 413);
    assert.equal((await postJson(api('/audience/profiles/reports/segments'), { segments: {} }, auth)).status, 400);
  });

  it('checks the segments body like APSIS: simple names, a filter (required by default) over those names', async () => {
    const post = (segments: object) =>
      postJson(api('/audience/profiles/reports/segments'), { ...reportBody, segments }, auth);
    const refused = async (segments: object, field: string, words: RegExp) => {
      const res = await post(segments);
      assert.equal(res.status, 400, JSON.stringify(segments));
      const body = json(res);
      assert.match(String(body.errors?.[field]), words, JSON.stringify(body));
    };
    const map = { europe: 'com.x.europe', women: 'com.x.women' };
    assert.equal((await post({ segment_discriminators: map, filter: '!(europe) & women' })).status, 200);
    assert.equal((await post({ segment_discriminators: map, filter: 'europe | women' })).status, 200);
    await refused({ segment_discriminators: map }, 'segments.filter', /required/);
    await refused(
      { segment_discriminators: map, filter: 'europe & men' },
      'segments.filter',
      /unknown segment name 'men'/,
    );
    await refused({ segment_discriminators: map, filter: 'europe &' }, 'segments.filter', /without an operand/);
    await refused({ segment_discriminators: map, filter: '(europe' }, 'segments.filter', /Unbalanced/);
    await refused(
      { segment_discriminators: { 'com.x.vip': 'com.x.vip' }, filter: 'vip' },
      'segments.segment_discriminators',
      /not a valid identifier/,
    );
    sim.apsis.config.requireFilter = false;
    try {
      assert.equal((await post({ segment_discriminators: map })).status, 200, 'the looser reading: filter optional');
    } finally {
      sim.apsis.config.requireFilter = true;
    }
  });

  it('first report gone (410) or failed (503), a second report succeeds; an expired URL is 410', async () => {
    Object.assign(sim.apsis.config, { reportReadyAfterMs: 0, goneFirstReports: 1 });
    assert.equal((await rawRequest(await requestReport(), { headers: auth })).status, 410);
    assert.equal((await rawRequest(await requestReport(), { headers: auth })).status, 200);
    sim.reset();
    Object.assign(sim.apsis.config, { goneFirstReports: 0, failFirstReports: 1 });
    assert.equal((await rawRequest(await requestReport(), { headers: auth })).status, 503);
    assert.equal((await rawRequest(await requestReport(), { headers: auth })).status, 200);
    sim.apsis.config.pollUrlValidityMs = 50;
    const url = await requestReport();
    await sleep(70);
    assert.equal((await rawRequest(url, { headers: auth })).status, 410);
  });

  it('single-profile export: 202, then code 100 and code 200 callbacks; the data URL honours the flags', async () => {
    const key = 'user/42@example.com';
    const res = await postJson(
      api(`/audience/profiles/export-single/${encodeURIComponent(key)}`),
      {
        callback_url: `${receiver.url}/cb/tok123`,
        include_attribute_history: true,
        include_type_definitions: true,
        include_merged_profiles: true,
      },
      auth,
    );
    assert.equal(res.status, 202);
    assert.equal(res.body.length, 0);
    const final = await until(() => receiver.got.find((g) => g.body.code === 200));
    assert.deepEqual(receiver.got[0], { path: '/cb/tok123', body: { code: 100, message: 'Callback verified' } });
    assert.ok(String(final.body.message).startsWith(`${sim.url}/`));
    assert.equal((await rawRequest(final.body.message)).status, 401);
    const doc = ProfileDocumentSchema.parse(json(await rawRequest(final.body.message, { headers: auth })));
    assert.ok(Object.keys(doc.profiles).length >= 2, 'merged profiles add keys');
    const section = Object.values(doc.profiles[key]!.sections)[0]!;
    assert.ok(Array.isArray(section.attributes.history));
    assert.ok(Array.isArray(section.events));
    assert.ok(doc.metadata?.sections);
    const plain = await postJson(
      api(`/audience/profiles/export-single/${encodeURIComponent(key)}`),
      { callback_url: `${receiver.url}/cb/t2` },
      auth,
    );
    assert.equal(plain.status, 202);
    const second = await until(() => receiver.got.find((g) => g.path === '/cb/t2' && g.body.code === 200));
    const doc2 = ProfileDocumentSchema.parse(json(await rawRequest(second.body.message, { headers: auth })));
    assert.deepEqual(Object.keys(doc2.profiles), [key]);
    assert.equal(doc2.metadata, undefined);
    assert.equal(Object.values(doc2.profiles[key]!.sections)[0]!.attributes.history, undefined);
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'export-single' }), 2);
  });

  it('callback misbehaviour: forged first, duplicate, foreign data host, retries, omitted', async () => {
    Object.assign(sim.apsis.config, {
      forgedCallbackFirst: true,
      duplicateCallback: true,
      profileDataHost: 'http://evil.invalid:9',
    });
    receiver.answers.push(500); // the first code-100 delivery fails and is retried
    await postJson(api('/audience/profiles/export-single/k1'), { callback_url: `${receiver.url}/cb/secret` }, auth);
    await until(() =>
      receiver.got.filter((g) => g.path === '/cb/secret' && g.body.code === 200).length === 2 ? true : undefined,
    );
    const paths = receiver.got.map((g) => `${g.path}:${g.body.code}`);
    assert.deepEqual(paths, ['/cb/secret:100', '/cb/secret:100', '/cb/secrex:200', '/cb/secret:200', '/cb/secret:200']);
    assert.ok(receiver.got[4]!.body.message.startsWith('http://evil.invalid:9/'));
    assert.equal(sim.apsis.callbacksSent.filter((c) => c.forged).length, 1);
    assert.equal(sim.apsis.callbacksSent[0]?.status, 500);

    receiver.got.length = 0;
    Object.assign(sim.apsis.config, { forgedCallbackFirst: false, duplicateCallback: false, omitCallback: true });
    await postJson(api('/audience/profiles/export-single/k2'), { callback_url: `${receiver.url}/cb/other` }, auth);
    await sleep(150);
    assert.deepEqual(
      receiver.got.map((g) => g.body.code),
      [100],
    );

    const dead = sim.apsis.callbacksSent.length;
    sim.apsis.config.omitCallback = false;
    await postJson(api('/audience/profiles/export-single/k3'), { callback_url: 'http://127.0.0.1:9/cb' }, auth);
    await until(() => (sim.apsis.callbacksSent.length - dead >= 3 ? true : undefined));
    assert.ok(sim.apsis.callbacksSent.slice(dead).every((c) => c.error && c.body.code === 100));
  });
});
