import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, readConfig } from '../../src/config';
import { SHUTDOWN_FORCE_EXTRA_MS, shutdownOptions } from '../../src/worker/shutdown';
import { defaultBuildId, versioningOptions } from '../../src/worker/versioning';
import { version } from '../../package.json';

describe('shutdown grace and worker versioning settings', () => {
  test('EXPORTFLOW_SHUTDOWN_GRACE: default 150 s, longer than the 2 min vendor call timeout; durations parse', () => {
    assert.equal(readConfig({}).shutdownGraceMs, 150_000);
    assert.ok(readConfig({}).shutdownGraceMs > 120_000);
    assert.equal(readConfig({ EXPORTFLOW_SHUTDOWN_GRACE: '5m' }).shutdownGraceMs, 300_000);
    assert.throws(
      () => readConfig({ EXPORTFLOW_SHUTDOWN_GRACE: 'soon' }),
      /EXPORTFLOW_SHUTDOWN_GRACE: expected a duration/,
    );
  });

  test('the SDK gets the grace, and a force time past it', () => {
    assert.deepEqual(shutdownOptions(30_000), {
      shutdownGraceTime: 30_000,
      shutdownForceTime: 30_000 + SHUTDOWN_FORCE_EXTRA_MS,
    });
  });

  test('versioning is off without EXPORTFLOW_DEPLOYMENT_NAME; a build id alone is an error', () => {
    const off = readConfig({});
    assert.deepEqual(off.versioning, { deploymentName: undefined, buildId: undefined });
    assert.deepEqual(versioningOptions(off.versioning, {}), {});
    assert.throws(
      () => readConfig({ EXPORTFLOW_BUILD_ID: 'b1' }),
      (e: unknown) => e instanceof ConfigError && /EXPORTFLOW_DEPLOYMENT_NAME is not/.test(e.message),
    );
    assert.throws(() => readConfig({ EXPORTFLOW_DEPLOYMENT_NAME: 'has.dot' }), /EXPORTFLOW_DEPLOYMENT_NAME may hold/);
  });

  test('on: PINNED by default, the given build id or package version + workflow code hash', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exportflow-buildid-'));
    const bundle = path.join(dir, 'workflow-bundle.js');
    fs.writeFileSync(bundle, 'code v1');
    const code = { workflowBundle: { codePath: bundle } };
    const on = versioningOptions({ deploymentName: 'exportflow', buildId: 'b7' }, code);
    assert.deepEqual(on.workerDeploymentOptions, {
      version: { deploymentName: 'exportflow', buildId: 'b7' },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'PINNED',
    });
    const id1 = defaultBuildId(code);
    assert.match(id1, new RegExp(`^${version.replace(/\./g, '\\.')}-[0-9a-f]{12}$`));
    assert.equal(defaultBuildId(code), id1, 'same code, same id');
    fs.writeFileSync(bundle, 'code v2');
    assert.notEqual(defaultBuildId(code), id1, 'changed workflow code, new id');
    const fromSources = defaultBuildId({ workflowsPath: require.resolve('../../src/workflows') });
    assert.match(fromSources, /^\d+\.\d+\.\d+.*-[0-9a-f]{12}$/);
  });
});
