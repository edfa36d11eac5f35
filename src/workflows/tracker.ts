import {
  log,
  metricMeter,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { METRIC_NAMES } from '../shared/metric-names';
import { EXPORT_SEARCH_ATTRIBUTES as SA } from '../shared/search-attributes';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { CarryOver } from '../shared/inputs';
import {
  rowsMatch,
  totalRowsOf,
  type ExportManifest,
  type ExportProgress,
  type ManifestFile,
  type Phase,
  type Provider,
} from '../shared/manifest';
import { progressQuery } from '../shared/contract';
import { FAILURE_TYPES, finalFailure } from '../shared/failure-types';
import { costCutsPatched } from './patches';

/**
 * The small state an export workflow keeps: vendor job id, how often it was requested, what is downloaded.
 * It answers the `progress` query and builds the manifest. Only ids and counters live here, never file data.
 */
export class ExportTracker {
  readonly progress: ExportProgress;
  private readonly files: ManifestFile[] = [];
  /** The vendor's own count of exported records, when it gives one. */
  private vendorTotal: number | null = null;

  constructor(provider: Provider, carry: CarryOver | undefined) {
    const now = new Date().toISOString();
    this.progress = {
      provider,
      phase: carry?.remoteId ? 'waiting' : 'creating',
      remoteId: carry?.remoteId ?? null,
      attempts: carry?.attempts ?? 0,
      vendorPercent: null,
      vendorStatus: null,
      polls: carry?.polls ?? 0,
      filesTotal: null,
      filesDone: 0,
      bytesDone: 0,
      startedAt: carry?.startedAt ?? now,
      updatedAt: now,
      error: null,
      warning: null,
    };
    setHandler(progressQuery, () => this.progress);
    // A continued run starts with the search attributes its predecessor handed to continue-as-new
    // (continueExport): publish upserts only what differs from them.
    this.publish(true);
    // A continued run carries state over; only the first run of an export counts as a start.
    if (!carry) this.count(METRIC_NAMES.started);
  }

  get remoteId(): string | null {
    return this.progress.remoteId;
  }

  get attempts(): number {
    return this.progress.attempts;
  }

  setPhase(phase: Phase): void {
    const changed = this.progress.phase !== phase;
    this.progress.phase = phase;
    this.touch();
    if (changed) this.publish(true);
  }

  /** Records a freshly created vendor job; from here on replays and restarts reuse it. */
  created(remoteId: string): void {
    this.progress.remoteId = remoteId;
    this.progress.attempts += 1;
    this.progress.vendorPercent = null;
    this.progress.vendorStatus = null;
    this.progress.phase = 'waiting';
    this.touch();
    this.publish(true);
  }

  /** Forgets a vendor job that failed or expired on the vendor's side, so the next step creates a new one. */
  dropRemote(): void {
    this.progress.remoteId = null;
    this.files.length = 0;
    this.progress.filesDone = 0;
    this.progress.bytesDone = 0;
    this.progress.filesTotal = null;
    this.setPhase('creating');
  }

  /** Says what the export waits for when that is not a status poll (e.g. a vendor callback). */
  waitingFor(status: string): void {
    this.progress.vendorStatus = status;
    this.touch();
    this.publish(false);
  }

  /** Records the vendor's id for a job it named only later (APSIS names a profile export in its callback). */
  identified(remoteId: string): void {
    this.progress.remoteId = remoteId;
    this.touch();
    this.publish(true);
  }

  polled(status: string, percent: number | null): void {
    this.progress.polls += 1;
    this.progress.vendorStatus = status;
    if (percent !== null) this.progress.vendorPercent = percent;
    this.touch();
    this.publish(false);
    this.count(METRIC_NAMES.polls);
  }

  startDownloads(count: number): void {
    this.progress.filesTotal = count;
    this.setPhase('downloading');
  }

  fileStored(file: ManifestFile): void {
    this.files.push(file);
    this.progress.filesDone = this.files.length;
    this.progress.bytesDone += file.bytes;
    this.touch();
    // Bytes reach the search attributes with the next phase change (the manifest's `completed` at the latest),
    // not one upsert per file; `status` reads them live from the progress query and the download heartbeats.
    this.publish(!this.upsertsOnlyOnChange());
  }

  failed(message: string, cancelled: boolean): void {
    this.progress.error = message;
    this.setPhase(cancelled ? 'cancelled' : 'failed');
    this.count(METRIC_NAMES.failed, { outcome: cancelled ? 'cancelled' : 'failed' });
  }

  /**
   * Compares the vendor's own record count with the rows stored. A mismatch is a warning (log, `status`, Web UI),
   * or with `require` a final RowCountMismatch, thrown before the manifest so the export's files are removed.
   */
  checkVendorTotal(vendorName: string, total: number | null, require: boolean): void {
    this.vendorTotal = total;
    const rows = totalRowsOf(this.files);
    if (rowsMatch(total, rows) !== false) return;
    const message =
      `${vendorName} reported ${total} exported records but the stored files hold ${rows} data rows` +
      (require ? '' : ' (not required to match; pass --require-total / requireTotal to fail instead)');
    if (require) throw finalFailure(FAILURE_TYPES.rowCountMismatch, message);
    log.warn(message, { vendorTotal: total, totalRows: rows });
    this.progress.warning = message;
    this.touch();
    this.publish(false);
  }

  carryOver(): CarryOver {
    return {
      remoteId: this.progress.remoteId,
      attempts: this.progress.attempts,
      startedAt: this.progress.startedAt,
      polls: this.progress.polls,
    };
  }

  manifest(): ExportManifest {
    this.setPhase('completed');
    this.count(METRIC_NAMES.completed);
    metricMeter
      .createHistogram(METRIC_NAMES.duration, 'int', 'ms', 'export duration from first request to manifest')
      .record(Math.max(0, Date.now() - Date.parse(this.progress.startedAt)), { provider: this.progress.provider });
    return {
      workflowId: workflowInfo().workflowId,
      provider: this.progress.provider,
      status: 'completed',
      remote: { id: this.progress.remoteId ?? '', attempts: this.progress.attempts, total: this.vendorTotal },
      files: [...this.files],
      totalRows: totalRowsOf(this.files),
      rowsMatchVendor: rowsMatch(this.vendorTotal, totalRowsOf(this.files)),
      startedAt: this.progress.startedAt,
      finishedAt: new Date().toISOString(),
    };
  }

  /**
   * Mirrors the state where operators look: the Web UI's current details (no history event) and, when
   * `searchable`, the search attributes (one history event each, so only on phase, job or file changes).
   */
  private publish(searchable: boolean): void {
    const p = this.progress;
    const vendor = p.vendorStatus
      ? `, vendor: ${p.vendorStatus}${p.vendorPercent !== null ? ` ${p.vendorPercent}%` : ''}`
      : '';
    const files = p.filesTotal !== null ? `, files ${p.filesDone}/${p.filesTotal}, ${p.bytesDone} bytes` : '';
    setCurrentDetails(
      `**${p.phase}**${p.remoteId ? ` · vendor job ${p.remoteId} (attempt ${p.attempts})` : ''}${vendor}${files}${p.error ? ` · ${p.error}` : ''}${p.warning ? ` · warning: ${p.warning}` : ''}`,
    );
    if (!searchable) return;
    const pairs: SearchAttributeUpdatePair[] = [
      { key: SA.provider, value: p.provider },
      { key: SA.phase, value: p.phase },
      { key: SA.remoteId, value: p.remoteId },
      { key: SA.bytes, value: p.bytesDone },
    ];
    const current = workflowInfo().typedSearchAttributes;
    // None set yet (a first run's start): the upsert of all four that every version made.
    if (pairs.every((pair) => current.get(pair.key) === undefined)) return upsertSearchAttributes(pairs);
    const changed = pairs.filter((pair) => (current.get(pair.key) ?? null) !== (pair.value ?? null));
    // Since the marker only the changes, or nothing (one action less); before it, all four every time.
    if (!this.upsertsOnlyOnChange()) upsertSearchAttributes(pairs);
    else if (changed.length > 0) upsertSearchAttributes(changed);
  }

  /**
   * Whether search attributes are upserted only where they change (since this marker): not again by a continued
   * run that inherited them, not per stored file. Older runs replay their upserts as recorded.
   */
  private upsertsOnlyOnChange(): boolean {
    return costCutsPatched();
  }

  /** Workflow metrics are emitted once, not again on replay (the SDK takes care of that). */
  private count(name: string, tags: Record<string, string> = {}): void {
    metricMeter.createCounter(name).add(1, { provider: this.progress.provider, ...tags });
  }

  private touch(): void {
    this.progress.updatedAt = new Date().toISOString();
  }
}
