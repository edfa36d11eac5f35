import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { portAnswers } from '../../src/dev/temporal-server';
import { REPO_ROOT, childEnv, runCli, tempDir, waitFor } from '../helpers/processes';
import { freePort } from '../helpers/temporal';

/**
 * The README's first command, as a newcomer runs it: `exportflow dev --simulate` starts a Temporal dev server,
 * the simulator and a worker that bundles the workflows at start (no prebuilt bundle, as in a fresh checkout),
 * then prints the export command to try; that command completes; a second `dev` is refused; Ctrl-C stops it all.
 */
describe('exportflow dev --simulate', () => {
  const root = tempDir('dev');
  let dev: ChildProcess | undefined;
  let output = '';
  let env: Record<string, string>;

  after(async () => {
    if (dev && dev.exitCode === null && dev.signalCode === null) {
      const exited = new Promise((r) => dev!.once('exit', r));
      dev.kill('SIGKILL');
      await exited;
    }
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('starts everything, and the export it suggests completes with the served file', async () => {
    const [temporalPort, simPort] = [await freePort(), await freePort()];
    env = {
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      EXPORTFLOW_TASK_QUEUE: `t-dev-${process.pid}`,
      EXPORT_DIR: path.join(root, 'exports'),
      EXPORTFLOW_DATA_DIR: path.join(root, 'data'),
      CALLBACK_LISTEN: '127.0.0.1:0',
      EXPORTFLOW_POLL_INITIAL: '200ms',
      EXPORTFLOW_POLL_MAX: '1s',
      // What a fresh checkout has: no bundle dir, so the worker runs webpack over src/workflows at start.
      EXPORTFLOW_WORKFLOW_BUNDLE_DIR: '',
    };
    dev = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'bin', 'exportflow.cjs'), 'dev', '--simulate', '--simulator-port', String(simPort)],
      {
        env: childEnv(env),
        cwd: root,
        // Its own process group, like a foreground job in a terminal, so Ctrl-C can go to the whole group.
        detached: true,
      },
    );
    dev.stdout!.on('data', (d) => (output += d));
    dev.stderr!.on('data', (d) => (output += d));
    await waitFor(
      'dev to say it is running',
      () => {
        if (dev!.exitCode !== null) throw new Error(`dev exited with ${dev!.exitCode}:\n${output}`);
        return output.includes('exportflow is running');
      },
      180_000,
      200,
    );
    assert.match(output, /bundling workflows/, 'a fresh checkout bundles the workflows at start');
    assert.match(output, /vendor simulator started/);
    const suggested = /npx exportflow (export altcraft [^\n]*--wait)/.exec(output);
    assert.ok(suggested, `dev prints an export command to try:\n${output}`);
    const res = await runCli([...suggested[1]!.trim().split(/\s+/), '--json'], env, 120_000, root);
    assert.equal(res.code, 0, res.stderr);
    const manifest = JSON.parse(res.stdout) as { status: string; files: { path: string; sha256: string }[] };
    assert.equal(manifest.status, 'completed');
    assert.equal(manifest.files.length, 1);
    assert.ok(manifest.files[0]!.path.startsWith(path.join(root, 'exports')), manifest.files[0]!.path);
    assert.ok(fs.statSync(manifest.files[0]!.path).size > 0);
    // The simulator's default running word is one the client expects: the first export logs no warning.
    assert.doesNotMatch(output, /status word no page documents/);
  });

  test('a second dev on the same data dir is refused with exit 1 and says how to add a worker', async () => {
    assert.ok(dev, 'the first test started dev');
    const res = await runCli(['dev', '--simulate', '--simulator-port', '0'], env, 30_000, root);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /already running \(pid \d+\)/);
    assert.match(res.stderr, /exportflow worker/);
  });

  test('Ctrl-C (SIGINT to the terminal group) stops the worker, then the simulator and the Temporal server; exit 0', async () => {
    assert.ok(dev, 'the first test started dev');
    const exited = new Promise<number | null>((r) => dev!.once('exit', (code) => r(code)));
    // A terminal's Ctrl-C signals every process of the foreground group: the Temporal dev server runs in its own
    // group, so it outlives the worker's graceful stop and is stopped last.
    process.kill(-dev.pid!, 'SIGINT');
    assert.equal(await exited, 0, output.slice(-2000));
    assert.equal(await portAnswers(env.TEMPORAL_ADDRESS!), false, 'the Temporal dev server stopped with it');
    const stopping = output.indexOf('"stopping: worker first');
    assert.ok(stopping >= 0, output.slice(-2000));
    assert.ok(output.indexOf('"worker stopped"', stopping) > stopping, 'the worker stopped cleanly');
    assert.doesNotMatch(output.slice(stopping), /stop failed|"level":50/, 'nothing failed while stopping');
  });
});
