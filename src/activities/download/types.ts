import type { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { ClassifiedError, Vendor } from '../../providers/errors';
import type { ManifestFile } from '../../shared/manifest';
import type { CsvFacts } from './checks/row-counter';

/**
 * The download engine's shared shapes: what a caller asks for (DownloadSpec) and gets (DownloadOutcome), the
 * resume point a heartbeat carries, and the interface every sink implements. Types only, and it imports no
 * module of download/ that could import it back (checks/row-counter imports nothing of the engine), so any
 * module here may import it without closing a circle (README.md, "Who imports whom").
 */

export interface DownloadSpec {
  vendor: Vendor;
  url: string;
  /** Credentials for the vendor; never logged, never returned. */
  headers: Record<string, string>;
  /** A local directory, or an `s3://bucket/prefix` URI (multipart upload; the manifest path is the URI). */
  dir: string;
  fileName: string;
  /** Count CSV rows in the (decoded) content. */
  countCsvRows: boolean;
  contentTypeFallback?: string;
  /** Statuses that mean "not ready yet" (APSIS poll URLs answer the file or 202/404 on the same URL). */
  notReadyStatuses?: readonly number[];
  /** Vendor-specific meaning of an error status; return undefined to use the default mapping. */
  classifyStatus?: (status: number, bodyText: string) => ClassifiedError | undefined;
  /** Vetoes a 200/206 answer before any byte is stored (e.g. not the format asked for). */
  checkResponse?: (headers: Record<string, string | string[] | undefined>) => ClassifiedError | undefined;
  /**
   * Redirects to follow (0, the default, treats a redirect as an error status). Credentials in `headers` are
   * dropped from the first hop that leaves the URL's origin; only https (or http from an http URL) is followed.
   */
  maxRedirects?: number;
  /** Concurrent ranges for a large file when the server allows it (EXPORTFLOW_DOWNLOAD_CONNECTIONS); default 1. */
  connections?: number;
  /** Smallest file fetched as several ranges (default 64 MiB); also lowers the fast-path size (tests use this). */
  multiRangeMinBytes?: number;
  resume?: ResumePoint;
  onProgress?: (point: ResumePoint) => void;
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
}

export type DownloadOutcome =
  | {
      ready: true;
      file: ManifestFile;
      resumed: boolean;
      /** With countCsvRows: CSV records including the first one, and the first record's sha256 (not in manifests). */
      csv?: CsvFacts;
    }
  | { ready: false; status: number; retryAfterMs?: number };

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

/** One byte range of a multi-connection download: [start, end) of the file, written up to `at`. */
export interface RangeState {
  start: number;
  end: number;
  at: number;
}
