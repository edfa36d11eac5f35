import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CsvRowCounter } from '../../src/activities/download/checks/row-counter';
import { csvBytesOf } from '../../src/simulator';

function count(text: string | Buffer, chunkSize = Infinity): number {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const counter = new CsvRowCounter();
  const step = Number.isFinite(chunkSize) ? chunkSize : bytes.length || 1;
  for (let i = 0; i < bytes.length; i += step) counter.push(bytes.subarray(i, i + step));
  return counter.dataRows();
}

describe('CSV row counting', () => {
  test('counts data rows, not the header', () => {
    assert.equal(count('id,name\n1,a\n2,b\n'), 2);
  });
  test('a last row without a newline still counts', () => {
    assert.equal(count('id,name\n1,a\n2,b'), 2);
  });
  test('a newline inside quotes does not end the row, even split across chunks', () => {
    const text = 'id,note\n1,"line one\nline two"\n2,"say ""hi""\nthere"\n3,plain\n';
    for (const size of [1, 2, 3, 7, 1000]) assert.equal(count(text, size), 3, `chunk size ${size}`);
  });
  test('CRLF endings and blank lines', () => {
    assert.equal(count('id\r\n1\r\n2\r\n\r\n'), 2);
  });
  test('header only and empty files have zero rows', () => {
    assert.equal(count('id,name\n'), 0);
    assert.equal(count(''), 0);
  });
  test('agrees with the simulator data set, which has quoted commas and newlines', () => {
    const csv = csvBytesOf('unit-test', 500);
    assert.equal(count(csv, 4096), 500);
    assert.equal(count(csv, 13), 500);
  });
});
