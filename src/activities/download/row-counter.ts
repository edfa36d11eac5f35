/**
 * Counts CSV records (not lines) in a byte stream: a newline inside a quoted field does not end a record.
 * Works chunk by chunk in constant memory; `""` escapes toggle twice, so they need no special case.
 */
export class CsvRowCounter {
  private records = 0;
  private inQuotes = false;
  private lineHasBytes = false;

  push(chunk: Uint8Array): void {
    let inQuotes = this.inQuotes;
    let records = this.records;
    let lineHasBytes = this.lineHasBytes;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte === 0x22) {
        inQuotes = !inQuotes;
        lineHasBytes = true;
      } else if (byte === 0x0a && !inQuotes) {
        // Blank lines are not records.
        if (lineHasBytes) records++;
        lineHasBytes = false;
      } else if (byte !== 0x0d) {
        lineHasBytes = true;
      }
    }
    this.inQuotes = inQuotes;
    this.records = records;
    this.lineHasBytes = lineHasBytes;
  }

  /** Data rows: records minus the header line; a last record without a trailing newline still counts. */
  dataRows(): number {
    const total = this.records + (this.lineHasBytes ? 1 : 0);
    return Math.max(0, total - 1);
  }
}
