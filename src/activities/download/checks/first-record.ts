import crypto from 'node:crypto';

const CR = 0x0d;

/**
 * Incremental sha256 of one CSV record's bytes, fed in pieces that may split it anywhere. Trailing CRs are held
 * back until a later byte shows they are content, so the CR of a CRLF line ending is left out even when the CR
 * and the LF arrive in different chunks.
 */
export class FirstRecordHash {
  private hash = crypto.createHash('sha256');
  private pendingCr = 0;

  /** Adds buf[from, to). */
  add(buf: Buffer, from: number, to: number): void {
    let end = to;
    while (end > from && buf[end - 1] === CR) end--;
    if (end > from) {
      this.flushCr(this.pendingCr);
      this.hash.update(buf.subarray(from, end));
      this.pendingCr = 0;
    }
    this.pendingCr += to - end;
  }

  /** Forgets everything added (a blank line turned out not to be a record). */
  reset(): void {
    this.hash = crypto.createHash('sha256');
    this.pendingCr = 0;
  }

  /** The hex digest; `lineEnded` drops the one CR that belongs to a CRLF ending (and at the end of the file). */
  digest(lineEnded: boolean): string {
    this.flushCr(lineEnded ? Math.max(0, this.pendingCr - 1) : this.pendingCr);
    this.pendingCr = 0;
    return this.hash.digest('hex');
  }

  /** The digest of a record that ends with the file (no newline after it): a final CR is its line ending. */
  peek(): string {
    const copy = this.hash.copy();
    if (this.pendingCr > 1) copy.update(Buffer.alloc(this.pendingCr - 1, CR));
    return copy.digest('hex');
  }

  private flushCr(count: number): void {
    if (count > 0) this.hash.update(Buffer.alloc(count, CR));
  }
}
