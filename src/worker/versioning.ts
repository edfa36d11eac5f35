import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';
import { version as packageVersion } from '../../package.json';

/**
 * Temporal Worker Versioning, opt-in (EXPORTFLOW_DEPLOYMENT_NAME, EXPORTFLOW_BUILD_ID).
 *
 * Off (no deployment name): workers are unversioned, and a deploy that changes a workflow relies on `patched()`
 * alone, which the replay tests guard. On: every worker of this process polls as version
 * `<deployment>.<buildId>`, and export workflows are PINNED: a workflow runs all its tasks, and its activities
 * on the vendor queues, on the build that started it, even after another build becomes current. So an old build
 * must keep running until its pinned exports finish; see docs/deploys-and-versioning.md for the procedure
 * (`temporal worker deployment set-current-version` / `set-ramping-version`).
 */
export interface VersioningSettings {
  deploymentName?: string;
  buildId?: string;
}

/** Where the workflow code comes from (see workflowSource in worker.ts). */
type WorkflowCode = Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>;

/**
 * Default build id: the package version and a short hash of the workflow code, so a rebuild with the same
 * workflow code keeps its id and any workflow change gets a new one. The code hashed is the prebuilt bundle
 * (dist/workflow-bundle.js, the Docker image) when there is one, else every source file beside the workflows
 * (src/, whose files a bundle built at start would contain) and the lockfile when found.
 */
export function defaultBuildId(code: WorkflowCode): string {
  const hash = crypto.createHash('sha256');
  const bundle = code.workflowBundle;
  if (bundle && 'codePath' in bundle) hash.update(fs.readFileSync(bundle.codePath));
  else if (bundle && 'code' in bundle) hash.update(bundle.code);
  else if (code.workflowsPath) {
    const src = path.dirname(path.dirname(code.workflowsPath));
    const files = (fs.readdirSync(src, { recursive: true }) as string[])
      .map((f) => path.join(src, f))
      .filter((f) => fs.statSync(f).isFile())
      .sort();
    const lock = path.join(path.dirname(src), 'package-lock.json');
    for (const file of fs.existsSync(lock) ? [...files, lock] : files) {
      hash.update(path.relative(src, file)).update('\0').update(fs.readFileSync(file)).update('\0');
    }
  }
  return `${packageVersion}-${hash.digest('hex').slice(0, 12)}`;
}

/** Worker options for versioning; empty when it is off. */
export function versioningOptions(
  settings: VersioningSettings,
  code: WorkflowCode,
): Pick<WorkerOptions, 'workerDeploymentOptions'> {
  if (!settings.deploymentName) return {};
  return {
    workerDeploymentOptions: {
      version: { deploymentName: settings.deploymentName, buildId: settings.buildId ?? defaultBuildId(code) },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'PINNED',
    },
  };
}
