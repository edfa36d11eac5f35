import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, readConfig } from '../../src/config';
import { workflowSource } from '../../src/worker';
import { workflowBundleName } from '../../src/worker/bundle-name';
import { tempDir } from '../helpers/processes';

describe('where the worker gets its workflow code', () => {
  test('from sources with no bundle dir: webpack bundles src/workflows at start', () => {
    // src/worker.ts has no workflow-bundle.js beside it (only dist/worker.js does, after `npm run build`).
    const source = workflowSource(false);
    assert.equal(source.workflowBundle, undefined);
    assert.equal(source.workflowsPath, require.resolve('../../src/workflows'));
  });

  test('EXPORTFLOW_WORKFLOW_BUNDLE_DIR: the bundle for the case, with or without encoded failures', () => {
    const dir = tempDir('bundle-dir');
    for (const encoded of [false, true]) fs.writeFileSync(path.join(dir, workflowBundleName(encoded)), '// code');
    const config = readConfig({ EXPORTFLOW_WORKFLOW_BUNDLE_DIR: dir });
    assert.equal(config.workflowBundleDir, dir);
    assert.deepEqual(workflowSource(false, config.workflowBundleDir), {
      workflowBundle: { codePath: path.join(dir, 'workflow-bundle.js') },
    });
    assert.deepEqual(workflowSource(true, config.workflowBundleDir), {
      workflowBundle: { codePath: path.join(dir, 'workflow-bundle.encoded-failures.js') },
    });
  });

  test('a bundle dir without the needed bundle is a ConfigError naming the variable and the file', () => {
    const dir = tempDir('bundle-dir-empty');
    fs.writeFileSync(path.join(dir, workflowBundleName(false)), '// code');
    assert.throws(
      () => workflowSource(true, dir),
      (err: Error) =>
        err instanceof ConfigError &&
        err.message.includes('EXPORTFLOW_WORKFLOW_BUNDLE_DIR') &&
        err.message.includes('workflow-bundle.encoded-failures.js'),
    );
  });

  test('a blank EXPORTFLOW_WORKFLOW_BUNDLE_DIR means none', () => {
    assert.equal(readConfig({ EXPORTFLOW_WORKFLOW_BUNDLE_DIR: ' ' }).workflowBundleDir, undefined);
  });
});
