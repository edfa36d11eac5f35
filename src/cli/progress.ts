import type { ExportClient, ExportStatus } from '../client';
import { formatBytes, formatDuration } from '../util/duration';

/** A text progress bar, e.g. `[######--------------]`. */
export function progressBar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** The bar for an export's current phase (vendor percent while waiting, files while downloading), or ''. */
function barFor(status: ExportStatus): string {
  const p = status.progress;
  if (p?.phase === 'waiting' && p.vendorPercent !== null) return `${progressBar(p.vendorPercent / 100)} `;
  if (p?.phase === 'downloading' && p.filesTotal) return `${progressBar(p.filesDone / p.filesTotal)} `;
  return '';
}

/** One line describing where an export is, e.g. `waiting for vendor: processing 42% (poll 3)`. */
export function describeStatus(status: ExportStatus, withBar = false): string {
  const p = status.progress;
  if (!p) return status.execution.toLowerCase();
  if (withBar) return barFor(status) + describeStatus(status, false);
  const elapsed = formatDuration(Date.now() - Date.parse(p.startedAt));
  // A quota block (src/workflows/quota-wait.ts) can hold any phase: say so whatever the phase.
  const quota = p.vendorStatus?.startsWith("waiting for the vendor's quota") ? ` · ${p.vendorStatus}` : '';
  switch (p.phase) {
    case 'creating':
      return `[${p.provider}] requesting the export from the vendor (attempt ${p.attempts + 1})${quota} · ${elapsed}`;
    case 'waiting': {
      const pct = p.vendorPercent !== null ? ` ${p.vendorPercent}%` : '';
      return `[${p.provider}] vendor job ${p.remoteId}: ${p.vendorStatus ?? 'requested'}${pct} (polls: ${p.polls}) · ${elapsed}`;
    }
    case 'downloading': {
      const bytes = p.bytesDone + status.inFlightBytes;
      return `[${p.provider}] downloading ${p.filesDone}/${p.filesTotal ?? '?'} files, ${formatBytes(bytes)}${quota} · ${elapsed}`;
    }
    default:
      return `[${p.provider}] ${p.phase}${p.error ? `: ${p.error}` : ''}${p.warning ? ` (warning: ${p.warning})` : ''}`;
  }
}

/**
 * Shows progress on stderr until `stop` is called or the export ends: a self-rewriting line on a terminal, a
 * plain line per change otherwise (so logs of CI and scripts stay readable). It follows the export through
 * ExportClient.follow (history long-poll and describe, which Temporal does not bill; the `progress` query only
 * at the start and when downloads begin), not a query a second. The elapsed clock on a terminal ticks locally.
 */
export function showProgress(
  client: ExportClient,
  workflowId: string,
  header = `export ${workflowId} started; waiting for it to finish (Ctrl-C stops waiting, not the export)`,
): { stop: () => void; done: Promise<void> } {
  const tty = process.stderr.isTTY === true;
  const abort = new AbortController();
  let last = '';
  let latest: ExportStatus | undefined;
  const draw = () => {
    if (!latest || abort.signal.aborted) return;
    const line = describeStatus(latest, tty);
    if (tty) process.stderr.write(`\r\x1b[K${line}`);
    else if (stripClock(line) !== stripClock(last)) process.stderr.write(`${line}\n`);
    last = line;
  };
  const clock = tty ? setInterval(draw, 1000) : undefined;
  process.stderr.write(`${header}\n`);
  const done = client
    .follow(
      workflowId,
      ({ progress, inFlightBytes }) => {
        latest = {
          workflowId,
          execution: 'RUNNING',
          progress,
          inFlightBytes,
          manifest: null,
          error: null,
          temporal: null,
        };
        draw();
      },
      abort.signal,
    )
    .then(
      () => undefined,
      // Progress is best effort; the result wait reports real failures.
      () => undefined,
    );
  return {
    done,
    stop() {
      abort.abort();
      if (clock) clearInterval(clock);
      if (tty && last) process.stderr.write('\n');
    },
  };
}

function stripClock(line: string): string {
  return line.replace(/ · .*$/, '');
}
