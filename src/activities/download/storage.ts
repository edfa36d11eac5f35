import type { Writable } from 'node:stream';
import { isS3Uri } from '../../util/s3-uri';
import { LocalFileSink } from './local-store';
import type { RangeState } from './ranges';

/** Where a retried attempt may pick up: saved in the activity heartbeat. */
export interface ResumePoint {
  offset: number;
  etag?: string;
  lastModified?: string;
  total?: number;
  /**
   * Multi-connection downloads: where each range of the file stands (`offset` is then how far the file is
   * written without a gap). Absent in the single-range form, which older heartbeats carry.
   */
  ranges?: RangeState[];
}

/**
 * Where one downloaded file is written: a local `.part` file renamed into place, or an S3 multipart upload
 * completed at the end. Either way the file appears under its final name only once `commit` runs.
 */
export interface FileSink {
  /** The part of `resume` still stored from an earlier attempt; undefined means "start clean". */
  usableResume(resume: ResumePoint | undefined): Promise<ResumePoint | undefined>;
  /** The bytes 0..offset stored by an earlier attempt, for re-hashing. */
  readStored(offset: number): AsyncIterable<Buffer>;
  /** Starts writing at `offset` (0 drops anything stored before). */
  open(offset: number, contentType: string): Promise<{ stream: Writable; written(): number }>;
  /** Makes the file durable and visible under its final name; returns its path or `s3://` URI. */
  commit(): Promise<string>;
  /** Ends a failed attempt; `keepForResume` leaves the stored bytes for the next attempt's Range request. */
  discard(keepForResume: boolean, reason: Error): Promise<void>;
}

/** The sink for `<dir>/<fileName>`; `dir` is a local directory or an `s3://bucket/prefix` URI. */
export function fileSinkFor(dir: string, fileName: string): FileSink {
  return isS3Uri(dir) ? new (loadS3Store().S3ObjectSink)(dir, fileName) : new LocalFileSink(dir, fileName);
}

/** The S3 sink, loaded on first use: the AWS SDK costs ~20 MiB and 0.2 s, paid only with an s3:// EXPORT_DIR. */
export function loadS3Store(): typeof import('./s3-store') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./s3-store') as typeof import('./s3-store');
}
