import type { Vendor } from '../shared/vendors';
/** Shared record types of the vendor simulator. */

export type LoggedVendor = Vendor | 'admin' | 'unknown';

/** One request as the simulator saw it; secrets in the query are replaced by '***'. */
export interface SimRequest {
  vendor: LoggedVendor;
  /** Short endpoint name, e.g. 'get_all', 'status', 'download', 'token', 'segment-report', 'poll', 'create', 'get'. */
  endpoint: string;
  method: string;
  path: string;
  /** Final HTTP status; 0 when the connection was cut before a status was sent. */
  status: number;
  hadAuthorization: boolean;
  /** The request came to the simulated object-storage host (myTracker file links), not the API host. */
  storageHost?: boolean;
  range?: string;
  /**
   * What the request is about, so concurrent tests can attribute requests and aim faults: Altcraft
   * `<source_type>:<source_id>`, APSIS the report's section or the profile's export key, myTracker the idSegment.
   */
  subject?: string;
  /** The vendor account whose credentials the request carried (`default` or a named one), once checked. */
  account?: string;
  /**
   * The request named another account's task, export or report and was refused as unknown (404, or Altcraft's
   * "Task not found"), as a real vendor keeps each account's jobs apart.
   */
  foreign?: true;
  at: number;
  /** When the response finished or the connection closed; undefined while the request is in flight. */
  endedAt?: number;
}

/** A file body sent completely with status 200 (ranged 206 answers are not recorded here). */
export interface ServedFile {
  vendor: Vendor;
  path: string;
  /** Bytes sent on the wire. */
  bytes: number;
  /** sha256 (hex) of the bytes sent on the wire. */
  sha256: string;
  rows: number | null;
  contentType: string;
  encoding: 'gzip' | null;
  /** sha256 of the decoded CSV/XLSX when the wire bytes were gzip. */
  decodedSha256?: string;
  /** Data set seed: csvInfo(seed, rows) reproduces the decoded CSV. */
  seed?: string;
  at: number;
}
