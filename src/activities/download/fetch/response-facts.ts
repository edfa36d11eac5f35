import { ClassifiedError } from '../../../providers/errors';
import { FAILURE_TYPES } from '../../../shared/failure-types';
import { statusError } from '../../../providers/http';
import { vendorLabel } from '../download-errors';
import type { DownloadSpec, ResumePoint } from '../types';

type Headers = Record<string, string | string[] | undefined>;

/** A 206 continues the stored bytes only if it starts where they end and describes the same entity. */
export function sameEntity(
  resume: ResumePoint,
  range: { start: number; end: number; total?: number } | undefined,
  etag: string | undefined,
  lastModified: string | undefined,
): boolean {
  if (!range || range.start !== resume.offset) return false;
  if (resume.total !== undefined && range.total !== undefined && range.total !== resume.total) return false;
  if (range.total !== undefined && range.end !== range.total - 1) return false;
  // A validator we saw before must come back unchanged; a server that stopped sending it cannot be trusted.
  if (resume.etag !== undefined && etag !== resume.etag) return false;
  if (resume.lastModified !== undefined && lastModified !== resume.lastModified) return false;
  return true;
}

export function defaultDownloadError(
  spec: DownloadSpec,
  status: number,
  headers: Headers,
  text: string,
): ClassifiedError {
  if (status === 404 || status === 410) {
    return new ClassifiedError(
      FAILURE_TYPES.gone,
      `${vendorLabel(spec)} download link for ${spec.fileName} is gone or expired (HTTP ${status})`,
      false,
      { vendor: spec.vendor, endpoint: 'download', status },
    );
  }
  return statusError(spec.vendor, 'download', { status, headers, text });
}

export function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function numberHeader(headers: Headers, name: string): number | undefined {
  const value = header(headers, name);
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

/** Parses `bytes START-END/TOTAL` (TOTAL may be `*`). */
export function parseContentRange(
  value: string | undefined,
): { start: number; end: number; total?: number } | undefined {
  const match = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value ?? '');
  if (!match) return undefined;
  return { start: Number(match[1]), end: Number(match[2]), total: match[3] === '*' ? undefined : Number(match[3]) };
}
