/**
 * The APSIS profiles-in-segment report file as the poll URL returns it: CSV by default, XLSX on `Accept`, gzip
 * on `Accept-Encoding` (APSIS's segment-report page). The same URL serves every format, as often as asked, while valid.
 */
import { createHash } from 'node:crypto';
import { CSV_COLUMNS, csvRows, csvSize, rowFields } from './datasets';
import { serveFile } from './files';
import { gzipChunks } from './gzip';
import { sendStream, type Ctx } from './http';
import type { ServedFile } from './types';
import { buildXlsx } from './xlsx';

export const APSIS_CSV_TYPE = 'text/csv;charset=UTF-8;header=present';
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export type PollUrlKind = 'v2' | 'v1' | 'poll_url';

export interface ApsisReport {
  /** The account whose token requested it; other accounts' tokens get the invalid-id answer for its URL. */
  account?: string;
  id: string;
  kind: PollUrlKind;
  pollPath: string;
  createdAt: number;
  section: string;
  seed: string;
  rows: number;
  gone: boolean;
  failing: boolean;
  request: Record<string, unknown>;
}

export interface ReportFileOptions {
  reportReadyAfterMs: number;
  supportRange: boolean;
  downloadBytesPerSec?: number;
}

/** Accept-Encoding allows gzip (a `q=0` refuses it). */
function wantsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [coding, ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)?.[1]).find((x) => x !== undefined);
    return coding?.trim().toLowerCase() === 'gzip' && (q === undefined || Number(q) > 0);
  });
}

/** The report body in the negotiated format: CSV (default) or XLSX, optionally gzip-encoded. */
export async function sendReportFile(
  ctx: Ctx,
  report: ApsisReport,
  opts: ReportFileOptions,
  served: ServedFile[],
): Promise<unknown> {
  // XLSX is a real minimal workbook (see xlsx.ts), built in memory: fine for test-sized reports.
  const xlsx = (ctx.req.headers.accept ?? '').includes(XLSX_TYPE);
  const contentType = xlsx ? XLSX_TYPE : APSIS_CSV_TYPE;
  const source = (): Iterable<Buffer> => (xlsx ? [xlsxOf(report)] : csvRows(report.seed, report.rows));
  const etag = `"${createHash('sha1').update(`${report.id}:${xlsx}`).digest('hex').slice(0, 20)}"`;
  const vary = { Vary: 'Accept, Accept-Encoding' };
  if (wantsGzip(ctx.req.headers['accept-encoding'])) {
    // On-the-fly compression, as a web server does it: chunked, no Content-Length, no ranges.
    const decoded = createHash('sha256');
    await sendStream(ctx, {
      status: 200,
      headers: {
        'Content-Type': contentType,
        'Content-Encoding': 'gzip',
        ETag: etag.replace(/"$/, '-gzip"'),
        ...vary,
      },
      chunks: gzipChunks(source(), decoded),
      bytesPerSec: opts.downloadBytesPerSec,
      onComplete: ({ bytes, sha256 }) =>
        served.push({
          vendor: 'apsis',
          path: ctx.url.pathname,
          bytes,
          sha256,
          rows: report.rows,
          contentType,
          encoding: 'gzip',
          decodedSha256: decoded.copy().digest('hex'),
          seed: report.seed,
          at: Date.now(),
        }),
    });
    return undefined;
  }
  const whole = xlsx ? xlsxOf(report) : undefined;
  return serveFile(
    ctx,
    {
      vendor: 'apsis',
      size: whole ? whole.length : csvSize(report.rows),
      chunksFrom: (start) =>
        whole ? [whole.subarray(start)] : csvRows(report.seed, report.rows, { startByte: start }),
      contentType,
      etag,
      lastModified: new Date(Math.floor((report.createdAt + opts.reportReadyAfterMs) / 1000) * 1000),
      headers: vary,
      supportRange: opts.supportRange,
      bytesPerSec: opts.downloadBytesPerSec,
      record: { rows: report.rows, encoding: null, seed: report.seed },
    },
    served,
  );
}

function xlsxOf(report: ApsisReport): Buffer {
  const rows = function* (): Generator<string[]> {
    for (let i = 1; i <= report.rows; i++) yield rowFields(report.seed, i);
  };
  return buildXlsx(CSV_COLUMNS, rows());
}
