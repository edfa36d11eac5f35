/**
 * Deterministic CSV data sets for the vendor simulator.
 *
 * Every data line has a fixed byte width (normal rows one width, every 50th row another), so the size of a
 * file and the offset of any row are arithmetic: Content-Length and `Range: bytes=N-` never need the file in
 * memory or a full pass over it. Every 50th record holds a quoted field with a comma, escaped quotes, a
 * non-ASCII character and an embedded newline, so a line counter is not a row counter.
 */
import { createHash } from 'node:crypto';

export interface CsvOptions {
  /** Emit the header line (default true). */
  header?: boolean;
  /** Start at this byte offset of the full file (for Range). */
  startByte?: number;
  /** Target chunk size in bytes (default 64 KiB). */
  chunkBytes?: number;
}

export const CSV_COLUMNS = ['profile_id', 'email', 'first_name', 'last_name', 'city', 'score', 'comment'];
const HEADER = Buffer.from(CSV_COLUMNS.join(',') + '\n');
/** One record in this many is the "awkward" one (comma, quotes, newline, multibyte). */
export const SPECIAL_EVERY = 50;
const SPECIAL_COMMENT = 'Café note, with comma and "quotes"\nsecond line';
const PLAIN_COMMENT = 'plain';
/** Ids are 9 digits wide, which keeps every row the same width. */
export const MAX_ROWS = 999_999_999;

/** FNV-1a: a cheap stable 32-bit hash of the seed string. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32 step: per-row PRNG so any row can be produced without its predecessors. */
function rowRandom(seedHash: number, row: number): () => number {
  let state = (seedHash ^ Math.imul(row, 0x9e3779b1)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
function word(rand: () => number, length: number): string {
  let out = LOWER.charAt(Math.floor(rand() * 26)).toUpperCase();
  for (let i = 1; i < length; i++) out += LOWER.charAt(Math.floor(rand() * 26));
  return out;
}

/** The field values of data row `row` (1-based). */
export function rowFields(seed: string, row: number): string[] {
  return rowFieldsHashed(hash32(seed), row);
}

function rowFieldsHashed(seedHash: number, row: number): string[] {
  const rand = rowRandom(seedHash, row);
  const id = String(row).padStart(9, '0');
  const score = String(100 + Math.floor(rand() * 900));
  const comment = row % SPECIAL_EVERY === 0 ? SPECIAL_COMMENT : PLAIN_COMMENT;
  return [id, `user${id}@example.test`, word(rand, 8), word(rand, 10), word(rand, 6), score, comment];
}

/** RFC 4180 quoting: only fields that need it are quoted. */
export function csvLine(fields: string[]): string {
  return fields.map((f) => (/[",\n\r]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',') + '\n';
}

const NORMAL_LEN = Buffer.byteLength(csvLine(rowFields('', 1)));
const SPECIAL_LEN = Buffer.byteLength(csvLine(rowFields('', SPECIAL_EVERY)));
const BLOCK_LEN = (SPECIAL_EVERY - 1) * NORMAL_LEN + SPECIAL_LEN;

function headerLen(opts?: CsvOptions): number {
  return opts?.header === false ? 0 : HEADER.length;
}

/** Byte offset where data row `row` (1-based) starts; offsetOfRow(rows + 1) is the file size. */
function offsetOfRow(row: number, opts?: CsvOptions): number {
  const before = row - 1;
  return headerLen(opts) + before * NORMAL_LEN + Math.floor(before / SPECIAL_EVERY) * (SPECIAL_LEN - NORMAL_LEN);
}

/** Size in bytes of the CSV for `rows` data rows, computed without generating it. */
export function csvSize(rows: number, opts?: CsvOptions): number {
  checkRows(rows);
  return offsetOfRow(rows + 1, opts);
}

function checkRows(rows: number): void {
  if (!Number.isInteger(rows) || rows < 0 || rows > MAX_ROWS) throw new RangeError(`rows must be 0..${MAX_ROWS}`);
}

/** The data row containing byte `offset` (offset past the header). */
function rowAtByte(offset: number, opts?: CsvOptions): number {
  const rel = offset - headerLen(opts);
  const block = Math.floor(rel / BLOCK_LEN);
  const inBlock = Math.min(Math.floor((rel - block * BLOCK_LEN) / NORMAL_LEN), SPECIAL_EVERY - 1);
  return block * SPECIAL_EVERY + inBlock + 1;
}

/**
 * Streams the CSV for (seed, rows) as Buffer chunks in constant memory.
 * With `startByte` it yields only the bytes from that offset on (the tail a 206 response carries).
 */
export function* csvRows(seed: string, rows: number, opts?: CsvOptions): Generator<Buffer> {
  checkRows(rows);
  const size = csvSize(rows, opts);
  const start = opts?.startByte ?? 0;
  if (start < 0 || start > size) throw new RangeError(`startByte ${start} outside 0..${size}`);
  if (start === size) return;
  const chunkBytes = opts?.chunkBytes ?? 64 * 1024;
  const seedHash = hash32(seed);
  let skip = start;
  let row = 1;
  if (headerLen(opts) > 0) {
    if (start < HEADER.length) {
      yield HEADER.subarray(start);
      skip = 0;
    } else {
      row = rowAtByte(start, opts);
      skip = start - offsetOfRow(row, opts);
    }
  } else if (start > 0) {
    row = rowAtByte(start, opts);
    skip = start - offsetOfRow(row, opts);
  }
  let parts: string[] = [];
  let pending = 0;
  for (; row <= rows; row++) {
    const line = csvLine(rowFieldsHashed(seedHash, row));
    parts.push(line);
    pending += line.length; // chars, not bytes: only steers chunk size
    if (pending >= chunkBytes) {
      yield takeChunk(parts, skip);
      skip = 0;
      parts = [];
      pending = 0;
    }
  }
  if (parts.length > 0) yield takeChunk(parts, skip);
}

function takeChunk(parts: string[], skip: number): Buffer {
  const buf = Buffer.from(parts.join(''));
  return skip > 0 ? buf.subarray(skip) : buf;
}

/** The whole CSV in one Buffer; for small files and tests. */
export function csvBytesOf(seed: string, rows: number, opts?: CsvOptions): Buffer {
  return Buffer.concat([...csvRows(seed, rows, opts)]);
}

/** Size and sha256 (hex) of the CSV, streamed; what a client should end up storing. */
export function csvInfo(seed: string, rows: number, opts?: CsvOptions): { bytes: number; sha256: string } {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const chunk of csvRows(seed, rows, { ...opts, startByte: 0 })) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * Counts CSV records (RFC 4180: newlines inside quotes do not end a record). The header, when present,
 * counts as a record; subtract it yourself. A last line without '\n' still counts.
 */
export function countCsvRecords(data: Buffer | string): number {
  const text = typeof data === 'string' ? data : data.toString('utf8');
  let records = 0;
  let inQuotes = false;
  let lineHasContent = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) inQuotes = !inQuotes; // an escaped "" toggles twice: net no change
    if (c === 10 /* \n */ && !inQuotes) {
      records++;
      lineHasContent = false;
    } else {
      lineHasContent = true;
    }
  }
  return lineHasContent ? records + 1 : records;
}
