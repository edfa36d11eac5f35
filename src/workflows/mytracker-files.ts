import { ApplicationFailure } from '@temporalio/workflow';
import type { MyTrackerDownload, MyTrackerLink } from '../activities/mytracker';
import type { CsvFacts } from '../activities/download/checks/row-counter';
import type { ManifestFile } from '../shared/manifest';
import { PARALLEL_DOWNLOADS, forEachBounded } from './parallel';
import { FAILURE_TYPES, finalFailure } from '../shared/failure-types';

/** Link refreshes (get.json again) per vendor export before it is treated as spent and requested anew. */
const MAX_LINK_REFRESHES = 3;

/** "This vendor export cannot deliver any more; request a new one (if allowed)". */
export function exportSpent(reason: string): ApplicationFailure {
  return finalFailure(FAILURE_TYPES.mytrackerSpent, reason);
}

export interface ExportFiles {
  links: MyTrackerLink[];
  names: string[];
  download(input: { link: string; expiresAt: number; fileName: string }): Promise<MyTrackerDownload>;
  /** Reads the export again until it says "Success!" and returns its fresh links. */
  refreshLinks(): Promise<MyTrackerLink[]>;
  onStored(file: ManifestFile): void;
}

/**
 * Downloads every file of a finished export, a few at a time, and returns them in the vendor's order.
 * An expired or refused link is refreshed once for all files (get.json again); if the fresh link is expired
 * too, or refreshing keeps failing, throws `MyTrackerExportSpent`. On the first failure the other downloads are
 * cancelled and waited for, so nothing writes into the export directory after this returns.
 */
export async function downloadExportFiles(job: ExportFiles): Promise<ManifestFile[]> {
  const count = job.links.length;
  const stored: ManifestFile[] = [];
  const facts: (CsvFacts | undefined)[] = [];
  let links = job.links;
  let generation = 0;
  let refreshes = 0;
  let refreshing: Promise<void> | undefined;

  // Several files may find their links dead at once: they share one refresh.
  const refresh = async (seenGeneration: number, why: string): Promise<void> => {
    if (generation !== seenGeneration) return;
    refreshing ??= (async () => {
      if (++refreshes > MAX_LINK_REFRESHES) {
        throw exportSpent(`its download links still failed after ${MAX_LINK_REFRESHES} refreshes (${why})`);
      }
      const fresh = await job.refreshLinks();
      if (fresh.length !== count) {
        throw exportSpent(`a refresh listed ${fresh.length} files where there were ${count}`);
      }
      links = fresh;
      generation += 1;
    })().finally(() => {
      refreshing = undefined;
    });
    await refreshing;
  };

  const fetchFile = async (index: number): Promise<void> => {
    for (;;) {
      const seen = generation;
      const link = links[index]!;
      if (link.expired) {
        if (seen > 0) throw exportSpent('the refreshed download links were already expired');
        await refresh(seen, 'link expired before download');
        continue;
      }
      const result = await job.download({ link: link.link, expiresAt: link.expiresAt, fileName: job.names[index]! });
      if ('stored' in result) {
        stored[index] = result.stored;
        facts[index] = result.csv;
        job.onStored(result.stored);
        return;
      }
      await refresh(seen, result.expired);
    }
  };

  await forEachBounded(count, PARALLEL_DOWNLOADS, fetchFile);
  return withHeaderCountedOnce(stored, facts);
}

/**
 * Data rows per file when the header line is in the first file only (create.json: includeHeaderLine adds "the
 * first line with column names to the first file"). A later file's first record is a header only where it equals
 * the first file's, so files that repeat the header are counted right too. Files downloaded before the engine
 * reported CSV facts (older histories) keep the rows they were stored with.
 */
export function withHeaderCountedOnce(files: ManifestFile[], facts: readonly (CsvFacts | undefined)[]): ManifestFile[] {
  const header = facts[0]?.firstRecordSha256;
  if (files.length < 2 || !header || facts.length < files.length || facts.some((f) => f === undefined)) return files;
  return files.map((file, index) => {
    const csv = facts[index]!;
    const repeatsHeader = index === 0 || csv.firstRecordSha256 === header;
    return { ...file, rows: Math.max(0, csv.records - (repeatsHeader ? 1 : 0)) };
  });
}
