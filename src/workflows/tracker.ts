import { setHandler, workflowInfo } from '@temporalio/workflow';
import type { CarryOver } from '../shared/inputs';
import {
  totalRowsOf,
  type ExportManifest,
  type ExportProgress,
  type ManifestFile,
  type Phase,
  type Provider,
} from '../shared/manifest';
import { progressQuery } from './definitions';

/**
 * The small state an export workflow keeps: vendor job id, how often it was requested, what is downloaded.
 * It answers the `progress` query and builds the manifest. Only ids and counters live here, never file data.
 */
export class ExportTracker {
  readonly progress: ExportProgress;
  private readonly files: ManifestFile[] = [];

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
    };
    setHandler(progressQuery, () => this.progress);
  }

  get remoteId(): string | null {
    return this.progress.remoteId;
  }

  get attempts(): number {
    return this.progress.attempts;
  }

  setPhase(phase: Phase): void {
    this.progress.phase = phase;
    this.touch();
  }

  /** Records a freshly created vendor job; from here on replays and restarts reuse it. */
  created(remoteId: string): void {
    this.progress.remoteId = remoteId;
    this.progress.attempts += 1;
    this.progress.vendorPercent = null;
    this.progress.vendorStatus = null;
    this.setPhase('waiting');
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

  polled(status: string, percent: number | null): void {
    this.progress.polls += 1;
    this.progress.vendorStatus = status;
    if (percent !== null) this.progress.vendorPercent = percent;
    this.touch();
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
  }

  failed(message: string, cancelled: boolean): void {
    this.progress.error = message;
    this.setPhase(cancelled ? 'cancelled' : 'failed');
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
    return {
      workflowId: workflowInfo().workflowId,
      provider: this.progress.provider,
      status: 'completed',
      remote: { id: this.progress.remoteId ?? '', attempts: this.progress.attempts },
      files: [...this.files],
      totalRows: totalRowsOf(this.files),
      startedAt: this.progress.startedAt,
      finishedAt: new Date().toISOString(),
    };
  }

  private touch(): void {
    this.progress.updatedAt = new Date().toISOString();
  }
}
