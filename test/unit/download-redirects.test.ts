import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { downloadToFile, type DownloadSpec } from '../../src/activities/download/engine';
import { ClassifiedError } from '../../src/providers/errors';
import { csvBytesOf } from '../../src/simulator';
import { csvSpec } from '../helpers/downloads';
import { tempDir } from '../helpers/processes';

interface Seen {
  server: 'a' | 'b';
  path: string;
  auth?: string;
  range?: string;
}

/**
 * Redirect following: two servers on 127.0.0.1 (two ports = two origins). Server A is the vendor and redirects;
 * server B plays object storage on another origin and must never see the vendor's credentials.
 */
describe('download redirects', () => {
  const body = csvBytesOf('redirects', 5_000);
  const sha = crypto.createHash('sha256').update(body).digest('hex');
  const seen: Seen[] = [];
  let a: http.Server;
  let b: http.Server;
  let baseA: string;
  let baseB: string;

  const serveFile = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const range = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    if (range && req.headers['if-range'] === '"v1"') {
      const start = Number(range[1]);
      res.writeHead(206, {
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        'content-length': body.length - start,
        etag: '"v1"',
      });
      return res.end(body.subarray(start));
    }
    res.writeHead(200, { 'content-length': body.length, 'content-type': 'text/csv', etag: '"v1"' });
    res.end(body);
  };
  const handler = (name: 'a' | 'b') => (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.push({ server: name, path: req.url!, auth: req.headers.authorization, range: req.headers.range });
    const url = new URL(req.url!, 'http://x');
    const hop = /^\/hop\/(\d+)$/.exec(url.pathname);
    if (hop) {
      const left = Number(hop[1]);
      res.writeHead(302, { location: left > 1 ? `/hop/${left - 1}` : '/file' }).end();
    } else if (url.pathname === '/to-b') res.writeHead(307, { location: `${baseB}/file` }).end();
    else if (url.pathname === '/to-b-and-back') res.writeHead(301, { location: `${baseB}/back-to-a` }).end();
    else if (url.pathname === '/back-to-a') res.writeHead(308, { location: `${baseA}/file` }).end();
    else if (url.pathname === '/to-ftp') res.writeHead(302, { location: 'ftp://127.0.0.1/file' }).end();
    else if (url.pathname === '/file') serveFile(req, res);
    else res.writeHead(404).end();
  };

  before(async () => {
    a = http.createServer(handler('a'));
    b = http.createServer(handler('b'));
    await new Promise<void>((r) => a.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => b.listen(0, '127.0.0.1', r));
    baseA = `http://127.0.0.1:${(a.address() as AddressInfo).port}`;
    baseB = `http://127.0.0.1:${(b.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise<void>((r) => a.close(() => r()));
    await new Promise<void>((r) => b.close(() => r()));
  });

  const spec = (url: string, dir: string, extra: Partial<DownloadSpec> = {}): DownloadSpec =>
    csvSpec(url, dir, { headers: { authorization: 'Bearer secret-token' }, maxRedirects: 3, ...extra });

  test('same-origin hops keep the credentials', async () => {
    seen.length = 0;
    const out = await downloadToFile(spec(`${baseA}/hop/2`, tempDir('redir')));
    assert.ok(out.ready);
    assert.equal(out.file.sha256, sha);
    assert.deepEqual(
      seen.map((s) => [s.server, s.path, s.auth]),
      [
        ['a', '/hop/2', 'Bearer secret-token'],
        ['a', '/hop/1', 'Bearer secret-token'],
        ['a', '/file', 'Bearer secret-token'],
      ],
    );
  });

  test('credentials are dropped across origins and not sent again when a later hop comes back', async () => {
    seen.length = 0;
    const out = await downloadToFile(spec(`${baseA}/to-b-and-back`, tempDir('redir')));
    assert.ok(out.ready);
    assert.equal(out.file.sha256, sha);
    assert.deepEqual(
      seen.map((s) => [s.server, s.path, s.auth]),
      [
        ['a', '/to-b-and-back', 'Bearer secret-token'],
        ['b', '/back-to-a', undefined],
        ['a', '/file', undefined],
      ],
    );
  });

  test('more hops than maxRedirects is a final error that names no credential', async () => {
    await assert.rejects(
      downloadToFile(spec(`${baseA}/hop/4`, tempDir('redir'))),
      (e: unknown) =>
        e instanceof ClassifiedError &&
        !e.retryable &&
        /more than 3 times/.test(e.message) &&
        !/secret/.test(e.message),
    );
    // Exactly maxRedirects hops still work.
    const out = await downloadToFile(spec(`${baseA}/hop/3`, tempDir('redir')));
    assert.ok(out.ready);
  });

  test('by default (maxRedirects 0) a redirect is an error status, as before', async () => {
    seen.length = 0;
    await assert.rejects(downloadToFile(spec(`${baseA}/to-b`, tempDir('redir'), { maxRedirects: undefined })));
    assert.deepEqual(
      seen.map((s) => s.server),
      ['a'],
    );
  });

  test('a redirect to another scheme is refused', async () => {
    await assert.rejects(
      downloadToFile(spec(`${baseA}/to-ftp`, tempDir('redir'))),
      (e: unknown) => e instanceof ClassifiedError && !e.retryable && /ftp: URL/.test(e.message),
    );
  });

  test('Range resume works through a cross-origin redirect', async () => {
    const dir = tempDir('redir');
    fs.writeFileSync(path.join(dir, '.data.csv.part'), body.subarray(0, 100_000));
    seen.length = 0;
    const out = await downloadToFile(
      spec(`${baseA}/to-b`, dir, { resume: { offset: 100_000, etag: '"v1"', total: body.length } }),
    );
    assert.ok(out.ready && out.resumed);
    assert.equal(out.file.sha256, sha);
    assert.deepEqual(
      seen.map((s) => [s.server, s.range, s.auth]),
      [
        ['a', 'bytes=100000-', 'Bearer secret-token'],
        ['b', 'bytes=100000-', undefined],
      ],
    );
    assert.ok(fs.readFileSync(path.join(dir, 'data.csv')).equals(body));
  });
});
