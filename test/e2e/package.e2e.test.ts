import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startStack, type TestStack } from '../helpers/stack';
import { REPO_ROOT, childEnv, tempDir, waitFor } from '../helpers/processes';
import { CONSUMER_CJS, CONSUMER_MJS, CONSUMER_TS, SCRATCH_TSCONFIG } from '../helpers/package-consumers';

const run = promisify(execFile);

/**
 * The built package as another service gets it: `npm pack` (its prepack runs `npm run build`), installed into a
 * scratch project without tsx, then used from CommonJS, from ESM and from TypeScript through the shipped .d.ts,
 * against a real Temporal dev server and a worker started from the installed package (prebuilt workflow bundle).
 */
describe('the packed package in a plain Node project', () => {
  let stack: TestStack;
  let dir: string;
  let scratch: string;
  let worker: ReturnType<typeof startInstalledWorker> | undefined;

  before(async () => {
    dir = tempDir('package');
    // npm's own output is long; keep it for a failure message only.
    const pack = await run('npm', ['pack', '--pack-destination', dir], { cwd: REPO_ROOT, timeout: 300_000 });
    const tarball = fs.readdirSync(dir).find((f) => f.endsWith('.tgz'));
    assert.ok(tarball, `npm pack wrote no tarball:\n${pack.stdout}\n${pack.stderr}`);
    scratch = path.join(dir, 'scratch');
    fs.mkdirSync(scratch);
    fs.writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
    // The same compiler and Node types as this repository (already in the npm cache).
    const typescript = installedVersion('typescript');
    const typesNode = installedVersion('@types/node');
    // The registry answers, but everything needed is in the npm cache since `npm ci` of this repository.
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        path.join(dir, tarball),
        `typescript@${typescript}`,
        `@types/node@${typesNode}`,
      ],
      { cwd: scratch, timeout: 300_000 },
    );
    fs.writeFileSync(path.join(scratch, 'consumer.cjs'), CONSUMER_CJS);
    fs.writeFileSync(path.join(scratch, 'consumer.mjs'), CONSUMER_MJS);
    fs.writeFileSync(path.join(scratch, 'consumer.ts'), CONSUMER_TS);
    fs.writeFileSync(path.join(scratch, 'consumer.mts'), CONSUMER_TS);
    fs.writeFileSync(path.join(scratch, 'tsconfig.json'), SCRATCH_TSCONFIG);
    stack = await startStack('package', { worker: false, sim: { altcraft: { taskDurationMs: 300 } } });
  });

  after(async () => {
    await worker?.stop();
    await stack?.stop();
    // The scratch install holds ~300 MB of node_modules.
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the install holds dist/ and no tsx, src/ or TypeScript sources', () => {
    const installed = path.join(scratch, 'node_modules', 'exportflow');
    assert.ok(fs.existsSync(path.join(installed, 'dist', 'client.d.ts')));
    assert.ok(fs.existsSync(path.join(installed, 'dist', 'workflow-bundle.js')));
    assert.ok(fs.existsSync(path.join(installed, 'dist', 'workflow-bundle.encoded-failures.js')));
    assert.equal(fs.existsSync(path.join(installed, 'src')), false, 'src/ is not shipped');
    assert.equal(fs.existsSync(path.join(scratch, 'node_modules', 'tsx')), false, 'tsx is not a runtime dependency');
    assert.equal(fs.existsSync(path.join(scratch, 'node_modules', '@temporalio', 'testing')), false);
  });

  test('the installed bin starts a worker from dist/ with the prebuilt workflow bundle', async () => {
    worker = startInstalledWorker(scratch, stack.env);
    await waitFor(
      'the packaged worker to poll',
      () => {
        if (worker!.exited()) throw new Error(`the packaged worker exited:\n${worker!.logs()}`);
        return worker!.logs().includes('"worker started"');
      },
      120_000,
      200,
    );
    const used = worker
      .logs()
      .split('\n')
      .filter((l) => l.includes('using the prebuilt workflow bundle'))
      .map((l) => (JSON.parse(l) as { workflowBundle: { codePath: string } }).workflowBundle.codePath);
    assert.deepEqual(used, [path.join(scratch, 'node_modules', 'exportflow', 'dist', 'workflow-bundle.js')]);
  });

  for (const file of ['consumer.cjs', 'consumer.mjs']) {
    test(`${file} starts an export that the packaged worker completes`, async () => {
      const workflowId = `package-${file.replace('.', '-')}-${process.pid}`;
      const out = await run(process.execPath, [file, workflowId], {
        cwd: scratch,
        env: childEnv(stack.env),
        timeout: 120_000,
      });
      const seen = JSON.parse(out.stdout) as Record<string, unknown>;
      assert.equal(seen.workflowId, workflowId);
      assert.ok(['RUNNING', 'COMPLETED'].includes(seen.execution as string), `execution: ${String(seen.execution)}`);
      assert.match(String(seen.badInput), /^InputError: sourceId/);
      assert.equal(seen.tsx, false, 'the consumer cannot resolve tsx');
      const manifest = await stack.client.result(workflowId);
      assert.equal(manifest.status, 'completed');
      assert.equal(manifest.files.length, 1);
    });
  }

  test('tsc type-checks a CommonJS and an ESM TypeScript consumer against the shipped .d.ts', async () => {
    const tsc = path.join(scratch, 'node_modules', 'typescript', 'bin', 'tsc');
    const res = await run(process.execPath, [tsc, '-p', '.'], { cwd: scratch, timeout: 180_000 }).catch(
      (err: { stdout: string }) => ({ stdout: err.stdout, failed: true }),
    );
    assert.ok(!('failed' in res), `tsc failed:\n${res.stdout}`);
  });

  test('with EXPORTFLOW_FROM_SOURCE=1 but no tsx installed, the bin fails with a message naming tsx', async () => {
    const bin = path.join(scratch, 'node_modules', 'exportflow', 'bin', 'exportflow.cjs');
    const res = await run(process.execPath, [bin, '--version'], {
      cwd: scratch,
      env: childEnv({ EXPORTFLOW_FROM_SOURCE: '1' }),
    }).catch((err: { code: number; stderr: string }) => err);
    assert.equal((res as { code?: number }).code, 1);
    assert.match(res.stderr, /EXPORTFLOW_FROM_SOURCE=1 needs tsx/);
  });
});

function installedVersion(name: string): string {
  const file = path.join(REPO_ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

/** `exportflow worker` from the installed package (its own bin, dist/ code), not from this checkout. */
function startInstalledWorker(scratch: string, env: Record<string, string>) {
  const bin = path.join(scratch, 'node_modules', 'exportflow', 'bin', 'exportflow.cjs');
  const child = spawn(process.execPath, [bin, 'worker'], {
    cwd: scratch,
    env: childEnv({ ...env, EXPORTFLOW_FROM_SOURCE: '0', EXPORTFLOW_WORKFLOW_BUNDLE_DIR: '' }),
  });
  let logs = '';
  child.stdout.on('data', (d) => (logs += d));
  child.stderr.on('data', (d) => (logs += d));
  return {
    logs: () => logs,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
