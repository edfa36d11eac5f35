import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ManifestFile } from '../../src/shared/manifest';
import { withHeaderCountedOnce } from '../../src/workflows/mytracker-files';

const file = (name: string, rows: number): ManifestFile => ({
  path: `/x/${name}`,
  name,
  bytes: 1,
  sha256: 'h',
  contentType: 'text/csv',
  encoding: 'gzip',
  rows,
});

describe('myTracker rows: the header line is counted only where a file has one', () => {
  const files = [file('1.1.a.csv.gz', 40), file('1.2.b.csv.gz', 39), file('1.3.c.csv.gz', 39)];

  /** What the engine reports of a file: its CSV records (header included) and the hash of the first one. */
  const fact = (firstRecordSha256: string, records = 41) => ({ records, firstRecordSha256 });
  const rowsAfter = (facts: ReturnType<typeof fact>[]) => withHeaderCountedOnce(files, facts).map((f) => f.rows);

  test('header in the first file only (create.json): later files count every record', () => {
    assert.deepEqual(rowsAfter([fact('HEADER'), fact('row-a', 40), fact('row-b', 40)]), [40, 40, 40]);
  });

  test('header repeated in every file: each file subtracts its own', () => {
    assert.deepEqual(rowsAfter([fact('HEADER'), fact('HEADER'), fact('HEADER')]), [40, 40, 40]);
  });

  test('files stored before CSV facts existed (older histories) keep their rows', () => {
    assert.equal(withHeaderCountedOnce(files, [undefined, undefined, undefined]), files);
    assert.equal(withHeaderCountedOnce(files, [{ records: 41, firstRecordSha256: 'H' }, undefined, undefined]), files);
  });

  test('an empty file and a single file are counted as before', () => {
    const facts = [
      { records: 41, firstRecordSha256: 'HEADER' },
      { records: 0, firstRecordSha256: null },
    ];
    assert.deepEqual(
      withHeaderCountedOnce([file('a', 40), file('b', 0)], facts).map((f) => f.rows),
      [40, 0],
    );
    const single = [file('a', 40)];
    assert.equal(withHeaderCountedOnce(single, [{ records: 41, firstRecordSha256: 'HEADER' }]), single);
  });
});
