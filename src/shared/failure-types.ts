import { ApplicationFailure } from '@temporalio/common';

/**
 * Every ApplicationFailure type exportflow reports, defined once. The strings are a contract: `exportflow --json`
 * prints them as `error.type`, callers branch on them and recorded histories carry them, so a value never changes.
 */
export const FAILURE_TYPES = {
  /** Credentials rejected (401/403, or the vendor's own "invalid token"). Final. */
  auth: 'VendorAuthError',
  /** The vendor rejected what we asked for (4xx, bad input). Final. */
  request: 'VendorRequestError',
  /** Over a vendor quota (429). Retryable after Retry-After. */
  rateLimited: 'VendorRateLimited',
  /** Network failure, timeout or 5xx. Retryable. */
  unavailable: 'VendorUnavailable',
  /** The answer was not what the vendor documents (HTML page, unknown status word, missing field). Final. */
  response: 'VendorResponseError',
  /** The vendor finished the job as failed/cancelled. Final. */
  jobFailed: 'VendorJobFailed',
  /** The vendor job or its file is gone or expired; the workflow may request the export again. */
  gone: 'VendorJobGone',
  /** A download did not arrive whole (length, gzip, changed file). Retryable. */
  integrity: 'DownloadIntegrityError',
  /** Writing the file failed for a reason retrying cannot fix (disk full, permissions). Final. */
  storage: 'StorageError',
  /** Altcraft answered with its own error code in the body (`error != 0`). Final. */
  altcraft: 'AltcraftError',
  /** The export input broke a rule (field named in the message). Final. */
  invalidInput: 'InvalidInput',
  /** The vendor job was not ready within EXPORTFLOW_MAX_WAIT (or its poll URL expired first). Final. */
  timeout: 'VendorTimeout',
  /** A myTracker export that cannot deliver (persistent "Error occurred", links that keep expiring). */
  mytrackerSpent: 'MyTrackerExportSpent',
  /** The worker lacks a setting it needs (a vendor credential, the callback receiver URL). Final. */
  workerMisconfigured: 'WorkerMisconfigured',
  /** Rows stored differ from the vendor's own count and the caller required them equal. Final. */
  rowCountMismatch: 'RowCountMismatch',
  /** A download stopped because its worker is shutting down; the next attempt resumes from its offset. Retryable. */
  workerShutdown: 'WorkerShutdown',
} as const;
export type FailureType = (typeof FAILURE_TYPES)[keyof typeof FAILURE_TYPES];

/** A failure Temporal must not retry: the one way activities and workflows end an export for good. */
export function finalFailure(type: FailureType, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}
