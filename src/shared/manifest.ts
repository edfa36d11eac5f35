import { FAILURE_TYPES } from './failure-types';

/** The manifest: a finished export's result (its fields: docs/usage.md), returned by every export workflow. */
export const PROVIDERS = ['altcraft', 'apsis-segment', 'apsis-profile', 'mytracker'] as const;
export type Provider = (typeof PROVIDERS)[number];

export interface ManifestFile {
  path: string;
  name: string;
  bytes: number;
  sha256: string;
  contentType: string;
  encoding: 'gzip' | null;
  rows: number | null;
}

export interface ExportManifest {
  workflowId: string;
  provider: Provider;
  status: 'completed';
  /** `total`: the vendor's own count of exported records where it gives one (Altcraft `result.total`). */
  remote: { id: string; attempts: number; total: number | null };
  files: ManifestFile[];
  totalRows: number | null;
  /** `remote.total` against `totalRows`; null where either is unknown. */
  rowsMatchVendor: boolean | null;
  startedAt: string;
  finishedAt: string;
  /**
   * What the export cost in Temporal billable actions as its own history shows them, across continue-as-new
   * (src/shared/temporal-actions.ts). Absent only from manifests of exports that began before the field.
   */
  temporal?: { actions: number };
}

/** What the `progress` query answers: enough for `exportflow status` and a progress bar. */
export const PHASES = ['creating', 'waiting', 'downloading', 'completed', 'failed', 'cancelled'] as const;
export type Phase = (typeof PHASES)[number];

export interface ExportProgress {
  provider: Provider;
  phase: Phase;
  remoteId: string | null;
  attempts: number;
  /** Vendor-reported progress, 0..100, when the vendor reports one. */
  vendorPercent: number | null;
  vendorStatus: string | null;
  polls: number;
  filesTotal: number | null;
  filesDone: number;
  bytesDone: number;
  startedAt: string;
  updatedAt: string;
  error: string | null;
  /** Something the export finished with but an operator should know (e.g. rows that differ from the vendor's count). */
  warning?: string | null;
}

/** Failure type of an export whose rows differ from the vendor's own count when the caller required them equal. */
export const ROW_COUNT_MISMATCH = FAILURE_TYPES.rowCountMismatch;

/** Compares the vendor's count with the rows stored: true/false, or null where either is unknown. */
export function rowsMatch(vendorTotal: number | null, totalRows: number | null): boolean | null {
  if (vendorTotal === null || totalRows === null) return null;
  return vendorTotal === totalRows;
}

/** Sums rows across files; null when any file's rows are unknown (e.g. XLSX). */
export function totalRowsOf(files: ManifestFile[]): number | null {
  let total = 0;
  for (const file of files) {
    if (file.rows === null) return null;
    total += file.rows;
  }
  return total;
}
