import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { countCsvRecords, csvBytesOf, csvInfo, csvRows, csvSize, FaultControl } from '../../src/simulator';
import { forgeCallbackUrl, profileDocument } from '../../src/simulator/apsis-profile';
import { parseRange } from '../../src/simulator/files';
import { redactPath } from '../../src/simulator/http';
import { ProfileDocumentSchema } from '../helpers/apsis';

describe('simulator data sets', () => {
  it('are deterministic per seed and differ between seeds', () => {
    assert.ok(csvBytesOf('a', 120).equals(csvBytesOf('a', 120)));
    assert.ok(!csvBytesOf('a', 120).equals(csvBytesOf('b', 120)));
    const info = csvInfo('a', 120);
    assert.equal(info.sha256, createHash('sha256').update(csvBytesOf('a', 120)).digest('hex'));
    assert.equal(info.bytes, csvSize(120));
  });

  it('hold quoted commas, quotes and newlines, so records != lines', () => {
    const text = csvBytesOf('a', 100).toString('utf8');
    assert.equal(countCsvRecords(text), 101);
    assert.equal(text.split('\n').length - 1, 103, 'rows 50 and 100 each span two lines');
    assert.match(text, /"Café note, with comma and ""quotes""\nsecond line"/);
  });

  it('size is arithmetic and any byte offset resumes exactly (with and without header)', () => {
    for (const header of [true, false]) {
      for (const rows of [0, 1, 49, 50, 51, 149]) {
        const full = csvBytesOf('r', rows, { header });
        assert.equal(full.length, csvSize(rows, { header }));
        for (let start = 0; start <= full.length; start += 13) {
          const tail = Buffer.concat([...csvRows('r', rows, { header, startByte: start, chunkBytes: 97 })]);
          assert.ok(tail.equals(full.subarray(start)), `rows=${rows} start=${start}`);
        }
      }
    }
  });

  it('streams a 5,000,000-row file lazily: size without generation, the tail from an offset near the end', () => {
    const size = csvSize(5_000_000);
    assert.ok(size > 300_000_000);
    const it = csvRows('big', 5_000_000, { startByte: size - 1000 });
    const first = it.next();
    assert.equal(first.done, false);
    const tail = Buffer.concat([first.value as Buffer, ...it]);
    assert.equal(tail.length, 1000);
    assert.ok(tail.toString().endsWith('\n'));
    assert.ok(tail.toString().includes('005000000,user005000000@example.test'));
  });
});

describe('simulator helpers', () => {
  it('fault rules fire in order, after afterCount, for `times` requests', () => {
    const f = new FaultControl();
    f.add({ vendor: 'altcraft', endpoint: 'status', kind: 'status', status: 500, times: 2, afterCount: 1 });
    f.add({ vendor: 'altcraft', kind: 'reset' });
    assert.equal(f.take('apsis', 'status'), undefined);
    assert.equal(f.take('altcraft', 'status')?.kind, 'reset', 'first status call passes rule 1, rule 2 takes it');
    assert.equal(f.take('altcraft', 'status')?.kind, 'status');
    assert.equal(f.take('altcraft', 'status')?.kind, 'status');
    assert.equal(f.take('altcraft', 'status'), undefined);
    f.add({ kind: 'delay', ms: 1, times: Infinity });
    for (let i = 0; i < 5; i++) assert.equal(f.take('mytracker', 'get')?.kind, 'delay');
    f.clear();
    assert.equal(f.take('mytracker', 'get'), undefined);
  });

  it('parses single byte ranges', () => {
    assert.deepEqual(parseRange('bytes=10-', 100), { start: 10, end: 99 });
    assert.deepEqual(parseRange('bytes=10-19', 100), { start: 10, end: 19 });
    assert.deepEqual(parseRange('bytes=-5', 100), { start: 95, end: 99 });
    assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=0-1,5-6', 100), undefined);
  });

  it('redacts secrets in logged paths', () => {
    assert.equal(redactPath('/api/download/x.csv?a=1&token=s3cret&b=2'), '/api/download/x.csv?a=1&token=***&b=2');
    assert.equal(redactPath('/x?access_token=abc'), '/x?access_token=***');
  });

  it('forges a callback URL by altering its token segment', () => {
    assert.equal(forgeCallbackUrl('http://h:1/cb/abc?x=1'), 'http://h:1/cb/abx?x=1');
    assert.equal(forgeCallbackUrl('http://h:1/cb/abx/'), 'http://h:1/cb/aby/');
  });

  it('profile documents are deterministic and honour the include flags', () => {
    const base = {
      exportKey: 'k',
      includeAttributeHistory: false,
      includeTypeDefinitions: false,
      includeMergedProfiles: false,
    };
    assert.deepEqual(profileDocument(base), profileDocument(base));
    const all = ProfileDocumentSchema.parse(
      profileDocument({
        ...base,
        section: 's1',
        includeAttributeHistory: true,
        includeTypeDefinitions: true,
        includeMergedProfiles: true,
      }),
    );
    assert.deepEqual(Object.keys(all.profiles.k!.sections), ['s1']);
    assert.ok(Array.isArray(all.profiles.k!.sections.s1!.attributes.history));
    assert.ok(all.metadata?.sections.s1);
    assert.equal(Object.keys(all.profiles).length, 2);
  });
});
