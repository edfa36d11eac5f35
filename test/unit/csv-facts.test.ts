import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { InlineContentChecker, type ContentChecker } from '../../src/activities/download/checks/content-check';
import { downloadToFile, type DownloadSpec } from '../../src/activities/download/engine';
import { CsvRowCounter, recordSha256 } from '../../src/activities/download/checks/row-counter';
import { WorkerContentChecker } from '../../src/activities/download/checks/content-check-thread';
import { csvBytesOf } from '../../src/simulator';
import { answerBytes, csvSpec, listenLoopback } from '../helpers/downloads';
import { tempDir } from '../helpers/processes';

function factsOf(text: string | Buffer, chunkSize = Infinity) {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const counter = new CsvRowCounter();
  const step = Number.isFinite(chunkSize) ? chunkSize : bytes.length || 1;
  for (let i = 0; i < bytes.length; i += step) counter.push(bytes.subarray(i, i + step));
  return counter.facts();
}

async function feed(checker: ContentChecker, data: Buffer, chunk = 65_536) {
  for (let i = 0; i < data.length; i += chunk) await checker.observe(data.subarray(i, i + chunk));
  return checker.finish();
}

/** CSV header facts: records including the header, and the sha256 of the header record without its line end. */
describe('CSV header facts', () => {
  test('records and first-record hash, whatever the chunking', () => {
    const text = 'id,"note\nwith newline"\r\n1,a\r\n2,b\r\n';
    for (const size of [1, 2, 3, 5, 7, 1000]) {
      assert.deepEqual(
        factsOf(text, size),
        { records: 3, firstRecordSha256: recordSha256('id,"note\nwith newline"') },
        `chunk size ${size}`,
      );
    }
  });

  test('LF endings, leading blank lines, a header without a newline, empty files', () => {
    assert.deepEqual(factsOf('a,b\n1,2\n'), { records: 2, firstRecordSha256: recordSha256('a,b') });
    for (const size of [1, 2, 100]) {
      assert.deepEqual(factsOf('\r\n\n\r\nh1,h2\n1,2', size), { records: 2, firstRecordSha256: recordSha256('h1,h2') });
    }
    assert.deepEqual(factsOf('only,header'), { records: 1, firstRecordSha256: recordSha256('only,header') });
    assert.deepEqual(factsOf('only,header\r'), { records: 1, firstRecordSha256: recordSha256('only,header') });
    assert.deepEqual(factsOf(''), { records: 0, firstRecordSha256: null });
    assert.deepEqual(factsOf('\n\r\n'), { records: 0, firstRecordSha256: null });
  });

  test('a CR inside the header is content; only the CR of the line ending is left out', () => {
    assert.deepEqual(factsOf('a\rb\r\r\nx\n', 1), { records: 2, firstRecordSha256: recordSha256('a\rb\r') });
  });

  test('the worker-thread checker reports the same facts, plain and gzip', async () => {
    const csv = csvBytesOf('csv-facts', 30_000);
    const header = csv.subarray(0, csv.indexOf(0x0a));
    const expected = { records: 30_001, firstRecordSha256: recordSha256(header.toString().replace(/\r$/, '')) };
    for (const [data, gzipped] of [
      [csv, false],
      [zlib.gzipSync(csv), true],
    ] as const) {
      const inline = await feed(new InlineContentChecker(true, gzipped), data);
      const worker = await feed(new WorkerContentChecker(true, gzipped), data, 7_000);
      assert.deepEqual(inline.csv, expected);
      assert.deepEqual(worker.csv, expected);
    }
    assert.equal((await feed(new InlineContentChecker(false, false), csv)).csv, null);
  });
});

describe('CSV header facts in download results', () => {
  const csv = csvBytesOf('csv-facts-dl', 8_000);
  const gz = zlib.gzipSync(csv);
  const headerSha = recordSha256(csv.subarray(0, csv.indexOf(0x0a)).toString().replace(/\r$/, ''));
  let server: http.Server;
  let base: string;

  before(async () => {
    server = http.createServer((req, res) => answerBytes(req, res, req.url === '/gzip' ? gz : csv));
    base = await listenLoopback(server);
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const spec = (mode: string, dir: string, extra: Partial<DownloadSpec> = {}): DownloadSpec =>
    csvSpec(`${base}/${mode}`, dir, {
      vendor: 'mytracker',
      fileName: mode === 'gzip' ? 'data.csv.gz' : 'data.csv',
      ...extra,
    });

  test('plain, gzip and resumed downloads report records and the header hash', async () => {
    for (const mode of ['plain', 'gzip']) {
      const out = await downloadToFile(spec(mode, tempDir('facts')));
      assert.ok(out.ready);
      assert.deepEqual(out.csv, { records: 8_001, firstRecordSha256: headerSha }, mode);
      assert.equal(out.file.rows, 8_000);
      assert.ok(!('csv' in out.file), 'not part of the manifest entry');
    }
    for (const [mode, data] of [
      ['plain', csv],
      ['gzip', gz],
    ] as const) {
      const dir = tempDir('facts');
      const name = mode === 'gzip' ? 'data.csv.gz' : 'data.csv';
      // The stored prefix holds the whole header: it is only seen again by replaying it through the checker.
      fs.writeFileSync(path.join(dir, `.${name}.part`), data.subarray(0, 40_000));
      const out = await downloadToFile(
        spec(mode, dir, { resume: { offset: 40_000, etag: '"v1"', total: data.length } }),
      );
      assert.ok(out.ready && out.resumed);
      assert.deepEqual(out.csv, { records: 8_001, firstRecordSha256: headerSha }, `resumed ${mode}`);
      assert.equal(out.file.sha256, crypto.createHash('sha256').update(data).digest('hex'));
    }
  });

  test('no csv facts when rows are not counted', async () => {
    const out = await downloadToFile(spec('plain', tempDir('facts'), { countCsvRows: false }));
    assert.ok(out.ready);
    assert.equal(out.csv, undefined);
  });
});
