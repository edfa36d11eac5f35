import { ClassifiedError, redactUrl, snippet } from '../../providers/errors';
import { VENDOR_NAMES } from '../../shared/vendors';
import { FAILURE_TYPES } from '../../shared/failure-types';
import type { DownloadSpec } from './types';

export function integrityError(spec: DownloadSpec, message: string): ClassifiedError {
  return new ClassifiedError(FAILURE_TYPES.integrity, message, true, { vendor: spec.vendor, endpoint: 'download' });
}

/** The stored bytes failed their content check: a broken gzip stream, or a check that could not finish. */
export function contentCheckError(spec: DownloadSpec, gzipped: boolean, err: unknown): ClassifiedError {
  const what = gzipped ? 'is not a valid gzip stream' : 'could not be checked';
  return integrityError(spec, `${vendorLabel(spec)} download of ${spec.fileName} ${what}: ${(err as Error).message}`);
}

/** Disk full, quota, read-only or permission problems: retrying on the same storage cannot fix them. */
const FINAL_STORAGE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EFBIG', 'ENAMETOOLONG']);

export function downloadFailure(spec: DownloadSpec, err: unknown): ClassifiedError {
  if (err instanceof ClassifiedError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code && FINAL_STORAGE_CODES.has(code)) {
    return new ClassifiedError(
      FAILURE_TYPES.storage,
      `cannot write ${spec.fileName} into ${spec.dir}: ${code} (${(err as Error).message})`,
      false,
      { vendor: spec.vendor, endpoint: 'download' },
    );
  }
  const at = `${vendorLabel(spec)} download of ${spec.fileName} (${redactUrl(spec.url)})`;
  return integrityError(spec, `${at} was interrupted: ${snippet((err as Error)?.message ?? String(err))}`);
}

export function vendorLabel(spec: DownloadSpec): string {
  return VENDOR_NAMES[spec.vendor];
}
