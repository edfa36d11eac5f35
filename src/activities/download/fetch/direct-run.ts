import { FAILURE_TYPES } from '../../../shared/failure-types';
import { observeBytes } from '../../../providers/observe';
import { DirectDownload, UnstableEntity, type DirectJob } from './direct';
import type { DownloadOutcome, DownloadSpec } from '../types';
import { contentCheckError, downloadFailure, integrityError, vendorLabel } from '../download-errors';
import type { LocalFileSink } from '../sinks/local-sink';

const PROGRESS_INTERVAL_MS = 1000;

/** What the engine learnt from the first answer, plus how the stored file is described in the manifest. */
export interface DirectPlan extends Omit<DirectJob, 'spec' | 'label' | 'sink'> {
  encoding: 'gzip' | null;
  contentType?: string;
}

/**
 * Runs a DirectDownload inside the engine's rules: heartbeats its resume point, checks the length and the gzip
 * stream, commits (fsync + rename) or discards (keeping the bytes when a next attempt can continue them), and
 * falls back to one connection from a clean start when the entity turns out not to be stable.
 */
export async function runDirect(
  spec: DownloadSpec,
  sink: LocalFileSink,
  plan: DirectPlan,
  restart: (spec: DownloadSpec) => Promise<DownloadOutcome>,
): Promise<DownloadOutcome> {
  const label = `${vendorLabel(spec)} download of ${spec.fileName}`;
  const startedAt = plan.ranges.reduce((sum, r) => sum + (r.at - r.start), 0);
  const job: DirectJob = { spec, label, sink, ...plan };
  const download = new DirectDownload(job);
  const report = () => spec.onProgress?.(download.point());
  const timer = setInterval(report, PROGRESS_INTERVAL_MS);
  let keepStored = true;
  let location: string;
  let size: number;
  let facts: Awaited<ReturnType<Awaited<ReturnType<DirectDownload['run']>>['facts']>>;
  let contentType = plan.contentType;
  try {
    const result = await download.run();
    size = result.size;
    contentType ??= result.contentType;
    if (plan.total !== undefined && size !== plan.total) {
      keepStored = size < plan.total;
      throw integrityError(spec, `${label} ended at ${size} bytes, expected ${plan.total}`);
    }
    try {
      facts = await result.facts();
    } catch (err) {
      keepStored = false;
      throw contentCheckError(spec, plan.gzipped, err);
    }
    location = await sink.commit();
  } catch (err) {
    clearInterval(timer);
    plan.first?.body.destroy();
    download.close();
    if (err instanceof UnstableEntity) {
      // Nothing stored can be trusted to belong to one version of the file.
      await sink.discard(false);
      spec.onProgress?.({ offset: 0 });
      return restart({ ...spec, resume: undefined, connections: 1 });
    }
    const failure = downloadFailure(spec, err);
    const keep = keepStored && !(failure.type === FAILURE_TYPES.storage && !failure.retryable);
    await sink.discard(keep).catch(() => undefined);
    if (keep) report();
    else spec.onProgress?.({ offset: 0 });
    throw failure;
  }
  clearInterval(timer);
  report();
  observeBytes(spec.vendor, size - startedAt);
  const type = (contentType ?? spec.contentTypeFallback ?? 'application/octet-stream').split(';')[0]!.trim();
  return {
    ready: true,
    resumed: startedAt > 0,
    ...(facts.csv ? { csv: facts.csv } : {}),
    file: {
      path: location,
      name: spec.fileName,
      bytes: size,
      sha256: facts.sha256,
      contentType: type,
      encoding: plan.encoding,
      rows: facts.rows,
    },
  };
}
