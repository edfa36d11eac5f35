import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileNamesFor, sanitizeFileName } from '../../src/shared/file-names';

describe('file names from vendors', () => {
  test('keep ordinary names', () => {
    assert.equal(sanitizeFileName('1_database_export.csv'), '1_database_export.csv');
  });
  test('cannot climb out of the export directory or be absolute', () => {
    for (const evil of ['../../etc/passwd', '/etc/passwd', '..\\..\\boot.ini', '%2e%2e%2fsecret', '..', '.']) {
      const name = sanitizeFileName(evil);
      assert.ok(!name.includes('/') && !name.includes('\\') && !name.startsWith('.'), `${evil} -> ${name}`);
    }
    assert.equal(sanitizeFileName('../../etc/passwd'), 'passwd');
  });
  test('strip control characters and bound the length, keeping the extension', () => {
    assert.equal(sanitizeFileName('a\u0000b\nc.csv'), 'a_b_c.csv');
    const long = sanitizeFileName(`${'x'.repeat(500)}.csv.gz`);
    assert.ok(long.length <= 120);
    assert.ok(long.endsWith('.gz'));
  });
  test('names for several URLs are unique and fall back when a URL has no name', () => {
    const names = fileNamesFor(['/api/download/a/x.csv', '/api/download/b/x.csv', '/api/download/'], 'export', '.csv');
    assert.deepEqual(names, ['x.csv', '2-x.csv', 'download']);
    assert.equal(new Set(names).size, 3);
    assert.deepEqual(fileNamesFor(['/'], 'export', '.csv'), ['export-1.csv']);
  });
});
