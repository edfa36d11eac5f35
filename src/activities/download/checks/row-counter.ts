import crypto from 'node:crypto';
import { FirstRecordHash } from './first-record';

/** What a CSV count says about a file: its records (header included) and the sha256 of the first one. */
export interface CsvFacts {
  /** CSV records, the first (header) one included; blank lines are not records. */
  records: number;
  /** sha256 hex of the first record's bytes without its line ending; null when the file holds no record. */
  firstRecordSha256: string | null;
}

/**
 * Counts CSV records (not lines) in a byte stream: a newline inside a quoted field does not end a record.
 * Works chunk by chunk in constant memory; `""` escapes toggle twice, so they need no special case.
 * Jumps between quotes and newlines with Buffer#indexOf (native, vectorised) instead of visiting every byte
 * in JavaScript, so counting keeps up with a fast download.
 */
export class CsvRowCounter {
  private records = 0;
  private inQuotes = false;
  private lineHasBytes = false;
  /** Hashes the first record while it streams by; null once it is complete. */
  private first: FirstRecordHash | null = new FirstRecordHash();
  private firstSha256: string | null = null;

  push(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const n = buf.length;
    let inQuotes = this.inQuotes;
    let records = this.records;
    let lineHasBytes = this.lineHasBytes;
    // Where the line that may become the first record starts in this chunk (only while it is unfinished).
    let lineStart = 0;
    let i = 0;
    let nextQuote = indexOrEnd(buf, 0x22, 0);
    while (i < n) {
      if (inQuotes) {
        // Everything up to the closing quote is field content (newlines included).
        if (nextQuote >= n) break;
        inQuotes = false;
        i = nextQuote + 1;
        nextQuote = indexOrEnd(buf, 0x22, i);
        continue;
      }
      const newline = indexOrEnd(buf, 0x0a, i);
      if (nextQuote < newline) {
        inQuotes = true;
        lineHasBytes = true;
        i = nextQuote + 1;
        nextQuote = indexOrEnd(buf, 0x22, i);
        continue;
      }
      // Bytes i..newline-1 hold no quote; a line of nothing but CR is blank.
      if (!lineHasBytes) lineHasBytes = hasNonCr(buf, i, newline);
      if (newline >= n) break;
      if (this.first) {
        if (lineHasBytes) {
          this.first.add(buf, lineStart, newline);
          this.firstSha256 = this.first.digest(true);
          this.first = null;
        } else {
          // A blank line before the header: the first record starts after it.
          this.first.reset();
          lineStart = newline + 1;
        }
      }
      // Blank lines are not records.
      if (lineHasBytes) records++;
      lineHasBytes = false;
      i = newline + 1;
    }
    if (this.first) this.first.add(buf, lineStart, n);
    this.inQuotes = inQuotes;
    this.records = records;
    this.lineHasBytes = lineHasBytes;
  }

  /** Data rows: records minus the header line; a last record without a trailing newline still counts. */
  dataRows(): number {
    return Math.max(0, this.recordCount() - 1);
  }

  /** Records including the first (header) one; a last record without a trailing newline still counts. */
  recordCount(): number {
    return this.records + (this.lineHasBytes ? 1 : 0);
  }

  /** Records and the first record's sha256, for the stream seen so far (call at the end). */
  facts(): CsvFacts {
    if (this.first && this.lineHasBytes) return { records: this.recordCount(), firstRecordSha256: this.first.peek() };
    return { records: this.recordCount(), firstRecordSha256: this.firstSha256 };
  }
}

/** sha256 hex of `bytes`: what CsvFacts.firstRecordSha256 holds for a header line `bytes`. */
export function recordSha256(bytes: Buffer | string): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

function indexOrEnd(buf: Buffer, byte: number, from: number): number {
  const at = buf.indexOf(byte, from);
  return at < 0 ? buf.length : at;
}

function hasNonCr(buf: Buffer, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (buf[k] !== 0x0d) return true;
  return false;
}
