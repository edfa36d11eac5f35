import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { downloadToFile, type DownloadSpec } from '../../src/activities/download/engine';
import { ClassifiedError } from '../../src/providers/errors';
import { csvBytesOf } from '../../src/simulator';
import { csvSpec } from '../helpers/downloads';
import { tempDir } from '../helpers/processes';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * Integrity rules of the download engine against a server whose answer each test writes: a file that changed
 * between attempts is never spliced onto old bytes, short bodies are retried, a full disk is a final error.
 */
describe('download engine integrity', () => {
  const v1 = csvBytesOf('integrity-v1', 10_000);
  const v2 = csvBytesOf('integrity-v2', 12_000);
  const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
  let server: http.Server;
  let url: string;
  let handler: Handler = (_req, res) => res.writeHead(500).end();
  const ranges: (string | undefined)[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      ranges.push(req.headers.range);
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.csv`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  /** A file server for `body` with validators; honours Range (ignoring If-Range when told to). */
  function serve(body: Buffer, validators: { etag?: string; lastModified?: string }, opts: { ifRange?: boolean } = {}) {
    handler = (req, res) => {
      const headers: Record<string, string | number> = { 'content-type': 'text/csv' };
      if (validators.etag) headers.etag = validators.etag;
      if (validators.lastModified) headers['last-modified'] = validators.lastModified;
      const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
      const ifRange = req.headers['if-range'];
      const honour = !opts.ifRange || !ifRange || ifRange === validators.etag || ifRange === validators.lastModified;
      if (m && honour) {
        const start = Number(m[1]);
        if (start >= body.length) {
          res.writeHead(416, { 'content-range': `bytes */${body.length}` });
          return res.end();
        }
        res.writeHead(206, {
          ...headers,
          'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
          'content-length': body.length - start,
        });
        return res.end(body.subarray(start));
      }
      res.writeHead(200, { ...headers, 'content-length': body.length });
      res.end(body);
    };
  }

  /** An earlier attempt's part file holding the first `n` bytes of `body`. */
  function partOf(body: Buffer, n: number): string {
    const dir = tempDir('integrity');
    fs.writeFileSync(path.join(dir, '.file.csv.part'), body.subarray(0, n));
    return dir;
  }

  const spec = (dir: string, extra: Partial<DownloadSpec> = {}): DownloadSpec =>
    csvSpec(url, dir, { fileName: 'file.csv', ...extra });

  const stored = (dir: string) => fs.readFileSync(path.join(dir, 'file.csv'));

  test('a 206 with another ETag than the first attempt saw restarts from byte 0 with the new file', async () => {
    const dir = partOf(v1, 100_000);
    serve(v2, { etag: '"v2"' });
    ranges.length = 0;
    const out = await downloadToFile(spec(dir, { resume: { offset: 100_000, etag: '"v1"', total: v1.length } }));
    assert.ok(out.ready && !out.resumed);
    assert.deepEqual(ranges, ['bytes=100000-', undefined], 'asked for the range, then for the whole file');
    assert.equal(out.file.sha256, sha(v2));
    assert.ok(stored(dir).equals(v2));
    assert.equal(out.file.rows, 12_000);
  });

  test('a 206 with another Last-Modified restarts from byte 0', async () => {
    const dir = partOf(v1, 50_000);
    serve(v2, { lastModified: 'Tue, 24 Nov 2026 10:00:00 GMT' });
    const out = await downloadToFile(
      spec(dir, { resume: { offset: 50_000, lastModified: 'Mon, 23 Nov 2026 10:00:00 GMT' } }),
    );
    assert.ok(out.ready && !out.resumed);
    assert.ok(stored(dir).equals(v2));
  });

  test('a 206 whose Content-Range total differs from the first attempt restarts from byte 0', async () => {
    const dir = partOf(v1, 50_000);
    serve(v2, {});
    const out = await downloadToFile(spec(dir, { resume: { offset: 50_000, total: v1.length } }));
    assert.ok(out.ready && !out.resumed);
    assert.equal(out.file.sha256, sha(v2));
  });

  test('a validator the first attempt saw but the 206 lacks is not trusted', async () => {
    const dir = partOf(v1, 50_000);
    serve(v1, {});
    const out = await downloadToFile(spec(dir, { resume: { offset: 50_000, etag: '"v1"', total: v1.length } }));
    assert.ok(out.ready && !out.resumed);
    assert.equal(out.file.sha256, sha(v1));
  });

  test('a server honouring If-Range answers the changed file with 200, which is stored whole', async () => {
    const dir = partOf(v1, 50_000);
    serve(v2, { etag: '"v2"' }, { ifRange: true });
    ranges.length = 0;
    const out = await downloadToFile(spec(dir, { resume: { offset: 50_000, etag: '"v1"' } }));
    assert.ok(out.ready && !out.resumed);
    assert.equal(ranges.length, 1);
    assert.ok(stored(dir).equals(v2));
  });

  test('the same entity resumes and the sha256 covers both attempts', async () => {
    const dir = partOf(v1, 70_000);
    serve(v1, { etag: '"v1"', lastModified: 'Mon, 23 Nov 2026 10:00:00 GMT' });
    const out = await downloadToFile(
      spec(dir, {
        resume: { offset: 70_000, etag: '"v1"', lastModified: 'Mon, 23 Nov 2026 10:00:00 GMT', total: v1.length },
      }),
    );
    assert.ok(out.ready && out.resumed);
    assert.equal(out.file.sha256, sha(v1));
    assert.equal(out.file.rows, 10_000);
  });

  test('416 on resume (the part was already whole when the worker died) starts over and succeeds', async () => {
    const dir = partOf(v1, v1.length);
    serve(v1, { etag: '"v1"' });
    const out = await downloadToFile(spec(dir, { resume: { offset: v1.length, etag: '"v1"', total: v1.length } }));
    assert.ok(out.ready);
    assert.equal(out.file.sha256, sha(v1));
  });

  test('a Content-Length larger than the body is a retryable integrity error; the bytes stay for a Range retry', async () => {
    const dir = tempDir('integrity');
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': v1.length + 16, 'content-type': 'text/csv', connection: 'close' });
      res.end(v1);
    };
    const progress: number[] = [];
    await assert.rejects(
      downloadToFile(spec(dir, { onProgress: (p) => progress.push(p.offset) })),
      (e: unknown) => e instanceof ClassifiedError && e.type === FAILURE_TYPES.integrity && e.retryable,
    );
    assert.equal(fs.existsSync(path.join(dir, 'file.csv')), false, 'nothing under the final name');
    const kept = fs.statSync(path.join(dir, '.file.csv.part')).size;
    assert.ok(kept > 0 && kept <= v1.length);
    const last = progress.at(-1) ?? 0;
    assert.ok(last <= kept, `the last heartbeat (${last}) never claims more than is stored (${kept})`);
  });

  test('a body that ends cleanly but short of Content-Range is not stored as done', async () => {
    const dir = partOf(v1, 1000);
    handler = (_req, res) => {
      // Claims the rest of the file but sends only part of it, with a matching Content-Length.
      res.writeHead(206, {
        'content-range': `bytes 1000-${v1.length - 1}/${v1.length}`,
        'content-length': 5000,
        etag: '"v1"',
      });
      res.end(v1.subarray(1000, 6000));
    };
    await assert.rejects(
      downloadToFile(spec(dir, { resume: { offset: 1000, etag: '"v1"', total: v1.length } })),
      (e: unknown) => e instanceof ClassifiedError && e.type === FAILURE_TYPES.integrity && e.retryable,
    );
    assert.equal(fs.existsSync(path.join(dir, 'file.csv')), false);
  });

  test('a corrupt gzip stream leaves neither a final file nor a part file to resume from', async () => {
    const dir = tempDir('integrity');
    const gz = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03]), crypto.randomBytes(5000)]);
    handler = (_req, res) => res.writeHead(200, { 'content-length': gz.length }).end(gz);
    await assert.rejects(
      downloadToFile(spec(dir, { fileName: 'file.csv.gz' })),
      (e: unknown) => e instanceof ClassifiedError && e.type === FAILURE_TYPES.integrity,
    );
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('cancellation stops the download without a file under the final name', async () => {
    const dir = tempDir('integrity');
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': v1.length });
      res.write(v1.subarray(0, 1000)); // and then nothing: the client has to give up
    };
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(downloadToFile(spec(dir, { signal: controller.signal })));
    assert.equal(fs.existsSync(path.join(dir, 'file.csv')), false);
  });

  test('a full disk (ENOSPC) is a final StorageError and leaves no partial file at all', async (t) => {
    const mnt = tempDir('enospc');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      t.skip('a 512 KiB tmpfs needs mount rights (root); not available here');
      return;
    }
    try {
      serve(v2, { etag: '"v2"' }); // ~900 kB: more than fits
      const dir = path.join(mnt, 'export');
      await assert.rejects(
        downloadToFile(spec(dir)),
        (e: unknown) =>
          e instanceof ClassifiedError && e.type === FAILURE_TYPES.storage && !e.retryable && /ENOSPC/.test(e.message),
      );
      assert.deepEqual(fs.readdirSync(dir), [], 'no final file and no part file');
    } finally {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
    }
  });
});
