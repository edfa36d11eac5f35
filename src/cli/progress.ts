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
 * Shows progress on stderr until `stop` is called: a self-rewriting line on a terminal, a plain line per
 * change otherwise (so logs of CI and scripts stay readable).
 */
export function showProgress(client: ExportClient, workflowId: string): { stop: () => void } {
  const tty = process.stderr.isTTY === true;
  let last = '';
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    try {
      const line = describeStatus(await client.status(workflowId), tty);
      if (stopped) return;
      if (tty) process.stderr.write(`\r\x1b[K${line}`);
      else if (stripClock(line) !== stripClock(last)) process.stderr.write(`${line}\n`);
      last = line;
    } catch {
      // Progress is best effort; the result wait reports real failures.
    }
    if (!stopped) timer = setTimeout(tick, 1000);
  };
  process.stderr.write(
    `export ${workflowId} started; waiting for it to finish (Ctrl-C stops waiting, not the export)\n`,
  );
  void tick();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (tty && last) process.stderr.write('\n');
    },
  };
}

function stripClock(line: string): string {
  return line.replace(/ · .*$/, '');
}
