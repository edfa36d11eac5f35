import type { RangeState } from './types';

/** Ranges are cut on 1 MiB boundaries, so writes stay aligned with the page cache and the write batches. */
const ALIGN = 1024 * 1024;

/** Splits [0, total) into `connections` ranges of about equal size. */
export function splitRanges(total: number, connections: number): RangeState[] {
  const step = Math.max(ALIGN, Math.ceil(total / connections / ALIGN) * ALIGN);
  const ranges: RangeState[] = [];
  for (let start = 0; start < total; start += step)
    ranges.push({ start, end: Math.min(total, start + step), at: start });
  return ranges;
}

/** How far the file is written without a gap from byte 0: what the checker may read and `offset` reports. */
export function contiguousEnd(ranges: readonly RangeState[]): number {
  for (const r of ranges) if (r.at < r.end) return r.at;
  return ranges.at(-1)?.end ?? 0;
}

/** Whether heartbeat details describe ranges that tile [0, total) in order, each written within its bounds. */
export function validRanges(ranges: unknown, total: number | undefined): ranges is RangeState[] {
  if (!Array.isArray(ranges) || ranges.length === 0 || total === undefined) return false;
  let expectStart = 0;
  for (const r of ranges as RangeState[]) {
    if (!r || typeof r.start !== 'number' || typeof r.end !== 'number' || typeof r.at !== 'number') return false;
    if (r.start !== expectStart || r.end <= r.start || r.at < r.start || r.at > r.end) return false;
    expectStart = r.end;
  }
  return expectStart === total;
}
