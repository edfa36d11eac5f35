import path from 'node:path';
import { Context } from '@temporalio/activity';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { ResumePoint } from './download/engine';
import { sanitizeFileName } from '../shared/file-names';

/** What every activity factory receives from the worker. */
export interface ActivityDeps {
  config: Config;
  logger: Logger;
}

/** `<EXPORT_DIR>/<workflowId>`; the id is sanitised so it can never climb out of EXPORT_DIR. */
export function exportDirFor(config: Config, workflowId: string): string {
  return path.join(config.exportDir, sanitizeFileName(workflowId, 'export'));
}

/** The resume point the previous attempt of this activity heartbeated, if any. */
export function lastResumePoint(): ResumePoint | undefined {
  const details = Context.current().info.heartbeatDetails as ResumePoint | undefined;
  return details && typeof details.offset === 'number' && details.offset > 0 ? details : undefined;
}

/** The workflow this activity works for; exportflow's activities only ever run inside a workflow. */
export function currentWorkflowId(): string {
  const id = Context.current().info.workflowExecution?.workflowId;
  if (!id) throw new Error('exportflow activities must run inside a workflow');
  return id;
}

/** A logger bound to the current activity's workflow. */
export function activityLogger(deps: ActivityDeps, provider: string): Logger {
  const info = Context.current().info;
  return deps.logger.child({
    workflowId: info.workflowExecution?.workflowId,
    provider,
    activity: info.activityType,
    attempt: info.attempt,
  });
}
