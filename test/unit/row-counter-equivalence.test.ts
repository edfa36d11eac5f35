import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CsvRowCounter } from '../../src/activities/download/checks/row-counter';

/** The byte-by-byte definition of a CSV record count that the fast counter must match exactly. */
function referenceRows(data: Buffer): number {
  let records = 0;
  let inQuotes = false;
  let lineHasBytes = false;
  for (const byte of data) {
    if (byte === 0x22) {
      inQuotes = !inQuotes;
      lineHasBytes = true;
    } else if (byte === 0x0a && !inQuotes) {
      if (lineHasBytes) records++;
      lineHasBytes = false;
    } else if (byte !== 0x0d) {
      lineHasBytes = true;
    }
  }
  return Math.max(0, records + (lineHasBytes ? 1 : 0) - 1);
}

/** Deterministic pseudo-random bytes drawn mostly from the characters that matter to CSV. */
function randomCsvish(seed: number, length: number): Buffer {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const alphabet = Buffer.from('"\n\r,ab"\n\n\r\n  x""');
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = alphabet[Math.floor(next() * alphabet.length)]!;
  return out;
}

test('the indexOf-based counter agrees with the byte-by-byte definition for any data and chunking', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const data = randomCsvish(seed, 1 + ((seed * 37) % 700));
    const expected = referenceRows(data);
    for (const chunkSize of [1, 2, 3, 7, 64, data.length]) {
      const counter = new CsvRowCounter();
      for (let i = 0; i < data.length; i += chunkSize) counter.push(data.subarray(i, i + chunkSize));
      assert.equal(counter.dataRows(), expected, `seed ${seed}, chunks of ${chunkSize}`);
    }
  }
});

test('plain Uint8Array chunks (not Buffers) are counted the same', () => {
  const data = Buffer.from('a,b\n1,"x\ny"\r\n\r\n2,z\n3');
  const counter = new CsvRowCounter();
  counter.push(new Uint8Array(data));
  assert.equal(counter.dataRows(), referenceRows(data));
  assert.equal(counter.dataRows(), 3);
});
