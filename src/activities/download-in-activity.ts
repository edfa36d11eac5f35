import { ApplicationFailure, Context } from '@temporalio/activity';
import { WORKER_SHUTDOWN_FAILURE, workerDraining } from './draining';
import type { ManifestFile } from '../shared/manifest';
import {
  downloadToFile,
  enableYoungGenerationCollection,
  type DownloadOutcome,
  type DownloadSpec,
} from './download/engine';
import { currentWorkflowId, exportDirFor, keepAlive, lastResumePoint, type ActivityDeps } from './context';
import type { ResumePoint } from './download/engine';

/**
 * Downloads one file inside an activity: resumes from the last heartbeat, heartbeats progress, stops when the
 * activity is cancelled. Throws when the URL answers "not ready" (callers that poll use downloadToFile directly).
 */
export async function downloadInActivity(
  deps: ActivityDeps,
  spec: Omit<DownloadSpec, 'dir' | 'resume' | 'onProgress' | 'signal'>,
): Promise<ManifestFile> {
  const outcome = await downloadHeartbeating(deps, spec);
  if (!outcome.ready) throw new Error(`download of ${spec.fileName} answered ${outcome.status} (not ready)`);
  return outcome.file;
}

/**
 * One poll of a URL that answers "not ready" or the file itself (APSIS poll URLs): like downloadInActivity, but
 * "not ready" is an outcome, not an error.
 */
export async function fetchWhenReadyInActivity(
  deps: ActivityDeps,
  spec: Omit<DownloadSpec, 'dir' | 'resume' | 'onProgress' | 'signal'>,
): Promise<DownloadOutcome> {
  return downloadHeartbeating(deps, spec);
}

/**
 * Runs the download engine in this activity: resumes from the last heartbeated point, heartbeats each new one,
 * and keeps heartbeating (the latest point) while the vendor is slow to answer, so a slow vendor is not taken
 * for a dead worker.
 */
function downloadHeartbeating(
  deps: ActivityDeps,
  spec: Omit<DownloadSpec, 'dir' | 'resume' | 'onProgress' | 'signal'>,
): Promise<DownloadOutcome> {
  // The worker's downloads free their socket buffers with a young-generation collection every 16 MiB (the engine
  // only does so once asked: it switches a V8 flag for a moment, process-wide). Idempotent: the first download of
  // this worker turns it on, later calls return at once.
  enableYoungGenerationCollection();
  const resume = lastResumePoint();
  let latest: ResumePoint | undefined = resume;
  // A stopping worker ends its downloads at once rather than after the shutdown grace: the engine heartbeats the
  // resume point as it stops, the failure carries it, and the retry on another worker continues with Range.
  const draining = workerDraining();
  return keepAlive(
    (signal) =>
      downloadToFile({
        ...spec,
        dir: exportDirFor(deps.config, currentWorkflowId()),
        connections: deps.config.downloads.connections,
        resume,
        // keepAlive heartbeats the latest point once the download has run a few seconds: a small file that is
        // done sooner costs no heartbeat (a billable action), and there is little to resume in it.
        onProgress: (point) => {
          latest = point;
        },
        signal: AbortSignal.any([signal, draining]),
      }).catch((err: unknown) => {
        // A failed attempt leaves its resume point for the next one even when it failed before keepAlive's first
        // heartbeat: the failure report carries the last heartbeat's details to the server.
        if (latest && latest !== resume) Context.current().heartbeat(latest);
        if (!draining.aborted || signal.aborted) throw err;
        throw ApplicationFailure.retryable(
          `the worker is shutting down: ${spec.fileName} stopped at byte ${latest?.offset ?? 0}; another worker resumes it`,
          WORKER_SHUTDOWN_FAILURE,
        );
      }),
    () => latest,
  );
}
