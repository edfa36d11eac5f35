import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { downloadToFile, type DownloadSpec } from '../../src/activities/download/engine';
import { ClassifiedError } from '../../src/providers/errors';
import { csvBytesOf } from '../../src/simulator';
import { answerBytes, csvSpec, listenLoopback } from '../helpers/downloads';
import { tempDir } from '../helpers/processes';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

/**
 * The download engine against a tiny local server whose misbehaviour each test chooses: Range support,
 * truncation, wrong Content-Length, gzip, changing files.
 */
describe('download engine', () => {
  const body = csvBytesOf('engine', 20_000);
  const sha = crypto.createHash('sha256').update(body).digest('hex');
  let server: http.Server;
  let base: string;
  const seen: { url: string; range?: string }[] = [];

  before(async () => {
    server = http.createServer((req, res) => {
      seen.push({ url: req.url!, range: req.headers.range });
      const url = new URL(req.url!, 'http://x');
      const mode = url.pathname.slice(1);
      const data = mode === 'gzip' || mode === 'badgzip' ? zlib.gzipSync(body) : body;
      if (mode === 'gone') return res.writeHead(410).end('gone');
      if (mode === 'truncated') {
        res.writeHead(200, { 'content-length': data.length, 'content-type': 'text/csv' });
        res.write(data.subarray(0, 1000));
        return setTimeout(() => res.destroy(), 20);
      }
      if (mode === 'shortlength') {
        res.writeHead(200, { 'content-type': 'text/csv' });
        return res.end(data.subarray(0, data.length - 10));
      }
      if (mode === 'badgzip') {
        res.writeHead(200, { 'content-type': 'application/gzip', 'content-length': data.length - 20 });
        return res.end(data.subarray(0, data.length - 20));
      }
      answerBytes(req, res, data, { 'content-type': 'text/csv; charset=utf-8' }, mode === 'ranged');
    });
    base = await listenLoopback(server);
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const spec = (mode: string, dir: string, extra: Partial<DownloadSpec> = {}): DownloadSpec =>
    csvSpec(`${base}/${mode}`, dir, { fileName: mode.includes('gzip') ? 'data.csv.gz' : 'data.csv', ...extra });

  test('stores the body under its final name with sha256, size and rows', async () => {
    const dir = tempDir('engine');
    const out = await downloadToFile(spec('plain', dir));
    assert.ok(out.ready);
    assert.equal(out.file.sha256, sha);
    assert.equal(out.file.bytes, body.length);
    assert.equal(out.file.rows, 20_000);
    assert.equal(out.file.contentType, 'text/csv');
    assert.deepEqual(fs.readdirSync(dir), ['data.csv']);
    assert.ok(fs.readFileSync(path.join(dir, 'data.csv')).equals(body));
  });

  test('gzip is stored as served and rows are counted from the decompressed stream', async () => {
    const dir = tempDir('engine');
    const out = await downloadToFile(spec('gzip', dir));
    assert.ok(out.ready);
    const gz = zlib.gzipSync(body);
    assert.equal(out.file.sha256, crypto.createHash('sha256').update(gz).digest('hex'));
    assert.equal(out.file.rows, 20_000);
  });

  test('a truncated body is a retryable integrity error and leaves no file under the final name', async () => {
    const dir = tempDir('engine');
    await assert.rejects(
      downloadToFile(spec('truncated', dir)),
      (e: unknown) => e instanceof ClassifiedError && e.retryable,
    );
    assert.equal(fs.existsSync(path.join(dir, 'data.csv')), false);
  });

  test('a corrupt gzip stream is detected and not stored as done', async () => {
    const dir = tempDir('engine');
    await assert.rejects(
      downloadToFile(spec('badgzip', dir)),
      (e: unknown) => e instanceof ClassifiedError && e.type === FAILURE_TYPES.integrity && e.retryable,
    );
    assert.equal(fs.existsSync(path.join(dir, 'data.csv.gz')), false);
  });

  test('404/410 at download means the link is gone (the workflow may request anew)', async () => {
    await assert.rejects(
      downloadToFile(spec('gone', tempDir('engine'))),
      (e: unknown) => e instanceof ClassifiedError && e.type === FAILURE_TYPES.gone,
    );
  });

  test('resumes from a previous attempt with Range and the final sha256 covers the whole file', async () => {
    const dir = tempDir('engine');
    fs.writeFileSync(path.join(dir, '.data.csv.part'), body.subarray(0, 300_000 + 123));
    seen.length = 0;
    const out = await downloadToFile(
      spec('ranged', dir, { resume: { offset: 300_000, etag: '"v1"', total: body.length } }),
    );
    assert.ok(out.ready && out.resumed);
    assert.equal(seen[0]!.range, 'bytes=300000-');
    assert.equal(out.file.sha256, sha);
    assert.equal(out.file.rows, 20_000);
    assert.ok(fs.readFileSync(path.join(dir, 'data.csv')).equals(body));
  });

  test('a server without Range support restarts cleanly from byte 0', async () => {
    const dir = tempDir('engine');
    fs.writeFileSync(path.join(dir, '.data.csv.part'), Buffer.alloc(5000, 0x41));
    const out = await downloadToFile(spec('plain', dir, { resume: { offset: 5000 } }));
    assert.ok(out.ready && !out.resumed);
    assert.equal(out.file.sha256, sha);
  });

  test('a part file shorter than the heartbeat offset is not trusted', async () => {
    const dir = tempDir('engine');
    fs.writeFileSync(path.join(dir, '.data.csv.part'), body.subarray(0, 10));
    seen.length = 0;
    const out = await downloadToFile(spec('ranged', dir, { resume: { offset: 300_000 } }));
    assert.ok(out.ready && !out.resumed);
    assert.equal(seen[0]!.range, undefined);
    assert.equal(out.file.sha256, sha);
  });

  test('progress is reported with the bytes on disk', async () => {
    const dir = tempDir('engine');
    const points: number[] = [];
    const out = await downloadToFile(spec('plain', dir, { onProgress: (p) => points.push(p.offset) }));
    assert.ok(out.ready);
    assert.equal(points.at(-1), body.length);
  });
});
