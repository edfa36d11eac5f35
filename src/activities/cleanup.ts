import fsp from 'node:fs/promises';
import { exportDirFor, type ActivityDeps } from './context';
import { loadS3Store } from './download/sinks/sink-for';
import { asActivity } from './as-activity';
import { isS3Uri } from '../util/s3-uri';

/** Activities shared by every provider: cleaning up after a cancelled or failed export. */
export function createFileActivities(deps: ActivityDeps) {
  return {
    /** Removes everything an export stored (cancel, or failure after partial downloads). Idempotent. */
    async removeExportFiles(input: { workflowId: string }): Promise<{ removed: boolean }> {
      const dir = exportDirFor(deps.config, input.workflowId);
      if (isS3Uri(dir)) {
        const { removed } = await asActivity(() => loadS3Store().removeS3Directory(dir));
        deps.logger.info({ workflowId: input.workflowId, dir }, 'removed export objects');
        return { removed };
      }
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
