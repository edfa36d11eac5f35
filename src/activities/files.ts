import fsp from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import type { ManifestFile } from '../shared/manifest';
import { downloadToFile, type DownloadSpec } from './download/engine';
import { currentWorkflowId, exportDirFor, lastResumePoint, type ActivityDeps } from './context';

/** Activities shared by every provider: cleaning up after a cancelled or failed export. */
export function createFileActivities(deps: ActivityDeps) {
  return {
    /** Removes everything an export stored (cancel, or failure after partial downloads). Idempotent. */
    async removeExportFiles(input: { workflowId: string }): Promise<{ removed: boolean }> {
      const dir = exportDirFor(deps.config, input.workflowId);
      const existed = await fsp
        .stat(dir)
        .then(() => true)
        .catch(() => false);
      await fsp.rm(dir, { recursive: true, force: true });
      deps.logger.info({ workflowId: input.workflowId, dir }, 'removed export files');
      return { removed: existed };
    },
  };
}

/**
 * Downloads one file inside an activity: resumes from the last heartbeat, heartbeats progress, stops when the
 * activity is cancelled. Throws when the URL answers "not ready" (callers that poll use downloadToFile directly).
 */
export async function downloadInActivity(
  deps: ActivityDeps,
  spec: Omit<DownloadSpec, 'dir' | 'resume' | 'onProgress' | 'signal'>,
): Promise<ManifestFile> {
  const ctx = Context.current();
  const outcome = await downloadToFile({
    ...spec,
    dir: exportDirFor(deps.config, currentWorkflowId()),
    resume: lastResumePoint(),
    onProgress: (point) => ctx.heartbeat(point),
    signal: ctx.cancellationSignal,
  });
  if (!outcome.ready) throw new Error(`download of ${spec.fileName} answered ${outcome.status} (not ready)`);
  return outcome.file;
}
