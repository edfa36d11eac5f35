import { ExportFailedError, type ExportManifest } from '../client';
import { formatBytes } from '../util/duration';

/** Exit codes: 0 done, 1 failed or cancelled, 2 bad usage or input (docs/usage.md). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Status for a closed stdout or stderr: what a shell reports for a process ended by SIGPIPE (128 + 13), as for
 * `cat` or `ls` piped into `head`. Node ignores SIGPIPE, so a write to a closed pipe fails with EPIPE instead.
 */
export const EXIT_CLOSED_PIPE = 141;

/**
 * `exportflow --help | head -1`, `exportflow list | head`: when the reader goes away, end at once and quietly
 * with the shell's usual status instead of an unhandled EPIPE stack. Other stream errors are thrown as before.
 */
export function endQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listeners('error').includes(onStreamError)) continue;
    stream.on('error', onStreamError);
  }
}

function onStreamError(err: NodeJS.ErrnoException): void {
  if (err.code === 'EPIPE') process.exit(EXIT_CLOSED_PIPE);
  throw err;
}

/** Usage or input problem: exit 2, nothing started. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Prints a manifest: JSON alone on stdout with --json, a readable summary otherwise. */
export function printManifest(manifest: ExportManifest, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
    return;
  }
  const lines = [
    `export ${manifest.workflowId} completed (${manifest.provider}, vendor job ${manifest.remote.id}, requested ${manifest.remote.attempts}x)`,
    ...manifest.files.map(
      (f) =>
        `  ${f.path}  ${formatBytes(f.bytes)}${f.rows !== null ? `  ${f.rows} rows` : ''}  sha256 ${f.sha256}${f.encoding ? `  (${f.encoding})` : ''}`,
    ),
    `  total rows: ${manifest.totalRows ?? 'unknown'}${vendorCount(manifest)}; ${manifest.startedAt} -> ${manifest.finishedAt}`,
    ...(manifest.rowsMatchVendor === false
      ? [
          `  warning: the vendor counted ${manifest.remote.total} records (remote.total) but the files hold ${manifest.totalRows} rows`,
        ]
      : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `, vendor says 1343 (match)`; nothing when the vendor gives no count (or the manifest predates the field). */
function vendorCount(manifest: ExportManifest): string {
  const total = manifest.remote.total;
  if (total === null || total === undefined) return '';
  const verdict = manifest.rowsMatchVendor === false ? 'MISMATCH' : manifest.rowsMatchVendor ? 'match' : 'unchecked';
  return `, vendor says ${total} (${verdict})`;
}

/** Prints why an export did not complete and returns exit status 1. */
export function printFailure(err: ExportFailedError, json: boolean): number {
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ status: err.status, error: { type: err.type, message: err.message } })}\n`,
    );
  }
  process.stderr.write(`export ${err.workflowId} ${err.status}: ${err.type}: ${err.message}\n`);
  return EXIT.failed;
}
