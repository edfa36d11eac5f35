import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { chromium } from 'playwright-core';
import { startSimulator, type Simulator } from '../../src/simulator';
import { testEnv } from '../helpers/env';
import { historyText } from '../helpers/history';
import { REPO_ROOT, childEnv, runCli, spawnWorker, waitFor, type WorkerProcess } from '../helpers/processes';
import { freePort, startTestTemporal } from '../helpers/temporal';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const EXPORT_KEY = 'gdpr.person@example.com';
const FILTER_VALUE = 'filter.secret@example.com';
const key = () => crypto.randomBytes(32).toString('base64');

/** Every payload-shaped object (metadata + data) in a raw history, for the codec endpoint. */
function payloadsIn(value: unknown, out: { metadata: Record<string, string>; data: string }[] = []) {
  if (!value || typeof value !== 'object') return out;
  const v = value as { metadata?: Record<string, Uint8Array>; data?: Uint8Array };
  if (v.metadata && typeof v.metadata === 'object' && v.metadata.encoding instanceof Uint8Array) {
    out.push({
      metadata: Object.fromEntries(Object.entries(v.metadata).map(([k, b]) => [k, Buffer.from(b).toString('base64')])),
      data: Buffer.from(v.data ?? new Uint8Array()).toString('base64'),
    });
    return out;
  }
  for (const inner of Object.values(v)) payloadsIn(inner, out);
  return out;
}

/**
 * Payload encryption end to end: with EXPORTFLOW_CODEC_KEYS the server stores no export key, filter value or file
 * path in clear text; the codec server decodes the same history (and feeds the Web UI); keys rotate without
 * losing old exports; a worker without the key stops at once instead of failing task after task.
 */
describe('encrypted payloads and the codec server', () => {
  let temporal: Awaited<ReturnType<typeof startTestTemporal>>;
  let sim: Simulator;
  let raw: Client;
  let rawConnection: Connection;
  let env: Record<string, string>;
  let codecUrl: string;
  let codecServer: ReturnType<typeof spawn>;
  const workers: WorkerProcess[] = [];
  const oldKey = `k1:${key()}`;
  const newKey = `k2:${key()}`;
  const exports: { id: string; path: string }[] = [];

  before(async () => {
    const codecPort = await freePort();
    codecUrl = `http://127.0.0.1:${codecPort}`;
    temporal = await startTestTemporal({ ui: true, codecEndpoint: codecUrl });
    sim = await startSimulator({ altcraft: { taskDurationMs: 200 }, apsis: { callbackDelayMs: 300 } });
    env = { ...testEnv(temporal.address, sim, 'codec'), EXPORTFLOW_CODEC_KEYS: oldKey };
    // A client with no codec at all: it sees what Temporal stores.
    rawConnection = await Connection.connect({ address: temporal.address });
    raw = new Client({ connection: rawConnection });
    codecServer = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'bin', 'exportflow.cjs'), 'codec-server', '--listen', `127.0.0.1:${codecPort}`],
      {
        env: childEnv({
          ...env,
          EXPORTFLOW_CODEC_KEYS: `${newKey},${oldKey}`,
          EXPORTFLOW_CODEC_CORS_ORIGINS: `http://127.0.0.1:${temporal.uiPort}`,
        }),
        cwd: os.tmpdir(),
      },
    );
    let codecLog = '';
    codecServer.stderr!.on('data', (d) => (codecLog += d));
    await waitFor('the codec server to listen', () => codecLog.includes('codec server at'), 60_000);
    const w = spawnWorker(env);
    workers.push(w);
    await w.ready;
  });

  after(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    codecServer?.kill('SIGTERM');
    await rawConnection?.close();
    await sim?.close();
    await temporal?.stop();
  });

  async function exportWith(args: string[], extra: Record<string, string> = {}) {
    const res = await runCli(['export', ...args, '--wait', '--json'], { ...env, ...extra });
    assert.equal(res.code, 0, res.stderr);
    const manifest = JSON.parse(res.stdout);
    exports.push({ id: manifest.workflowId, path: manifest.files[0].path });
    return manifest as { workflowId: string; files: { path: string }[] };
  }

  test('the raw history holds no export key, filter value or file path; the codec server decodes it', async () => {
    const profile = await exportWith(['apsis-profile', '--export-key', EXPORT_KEY]);
    const altcraft = await exportWith([
      'altcraft',
      '--source-type',
      'database',
      '--source-id',
      '2',
      '--filter',
      JSON.stringify({ email: FILTER_VALUE }),
    ]);
    for (const m of [profile, altcraft]) {
      const history = await raw.workflow.getHandle(m.workflowId).fetchHistory();
      const text = historyText(history);
      assert.ok(text.includes('binary/encrypted'), 'payloads are there, encrypted');
      for (const secret of [EXPORT_KEY, FILTER_VALUE, m.files[0]!.path, env.EXPORT_DIR!]) {
        assert.ok(!text.includes(secret), `raw history of ${m.workflowId} must not contain ${secret}`);
      }
      const res = await fetch(`${codecUrl}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-namespace': 'default' },
        body: JSON.stringify({ payloads: payloadsIn(history) }),
      });
      assert.equal(res.status, 200);
      const decoded = (await res.json()) as { payloads: { data: string }[] };
      const plain = decoded.payloads.map((p) => Buffer.from(p.data, 'base64').toString()).join('\n');
      assert.ok(plain.includes(m.files[0]!.path), 'decoded history holds the file path');
      assert.ok(plain.includes(m === profile ? EXPORT_KEY : FILTER_VALUE), 'decoded history holds the input');
    }
    // A schedule's stored action (its export input) goes through the same codec.
    const scheduled = await runCli(
      [
        'schedule',
        'create',
        'codec-sched',
        '--cron',
        '0 3 * * *',
        '--paused',
        '--',
        'export',
        'apsis-profile',
        '--export-key',
        EXPORT_KEY,
      ],
      env,
    );
    assert.equal(scheduled.code, 0, scheduled.stderr);
    const stored = historyText(
      await rawConnection.workflowService.describeSchedule({ namespace: 'default', scheduleId: 'codec-sched' }),
    );
    assert.ok(stored.includes('binary/encrypted') && !stored.includes(EXPORT_KEY), 'schedule input encrypted');
    const listed = await runCli(['schedule', 'list', '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);

    // The same check fails without keys: a worker on its own queue stores the input in clear text.
    const plainEnv = { ...env, EXPORTFLOW_CODEC_KEYS: '', EXPORTFLOW_TASK_QUEUE: `${env.EXPORTFLOW_TASK_QUEUE}-plain` };
    const plainWorker = spawnWorker(plainEnv);
    workers.push(plainWorker);
    await plainWorker.ready;
    const clear = await runCli(['export', 'apsis-profile', '--export-key', EXPORT_KEY, '--wait', '--json'], plainEnv);
    assert.equal(clear.code, 0, clear.stderr);
    await plainWorker.kill('SIGTERM');
    const clearText = historyText(await raw.workflow.getHandle(JSON.parse(clear.stdout).workflowId).fetchHistory());
    assert.ok(clearText.includes(EXPORT_KEY), 'without EXPORTFLOW_CODEC_KEYS the export key is in the history');
  });

  test('a worker without the key stops at once naming it; after rotation old and new exports read back', async () => {
    await workers[0]!.kill('SIGTERM');
    const started = await runCli(['export', 'altcraft', '--source-type', 'segment', '--source-id', '9'], env);
    assert.equal(started.code, 0, started.stderr);
    const pending = started.stdout.trim();

    // (A worker with no keys at all stops the same way: the codec recognises encrypted payloads either way; unit-tested.)
    {
      const keys = `k9:${key()}`;
      const lacking = spawnWorker({ ...env, EXPORTFLOW_CODEC_KEYS: keys });
      workers.push(lacking);
      await lacking.ready;
      // Bounded: the worker gets the pending export's workflow task, cannot decode it, and must stop.
      const code = await waitFor(
        'the worker without the key to stop',
        () => (lacking.child.exitCode !== null ? { code: lacking.child.exitCode } : undefined),
        90_000,
      ).then((r) => r.code);
      assert.equal(code, 1, lacking.logs());
      assert.match(lacking.logs(), /key id "k1", which EXPORTFLOW_CODEC_KEYS here does not hold/);
      console.log(`worker lacking the key: exit ${code}; ${lacking.logs().trim().split('\n').pop()}`);
    }

    const rotated = { ...env, EXPORTFLOW_CODEC_KEYS: `${newKey},${oldKey}` };
    const w = spawnWorker(rotated);
    workers.push(w);
    await w.ready;
    const finished = await runCli(['result', pending, '--json'], rotated);
    assert.equal(finished.code, 0, finished.stderr);
    const after = await exportWith(['apsis-profile', '--export-key', EXPORT_KEY], rotated);
    const text = historyText(await raw.workflow.getHandle(after.workflowId).fetchHistory());
    assert.match(text, /encryption-key-id\nk2/, 'new payloads use the first key');
    for (const old of exports.slice(0, 2)) {
      const res = await runCli(['result', old.id, '--json'], rotated);
      assert.equal(res.code, 0, res.stderr);
      assert.equal(JSON.parse(res.stdout).files[0].path, old.path);
    }
    const noKey = await runCli(['status', after.workflowId, '--json'], { ...env, EXPORTFLOW_CODEC_KEYS: '' });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /EXPORTFLOW_CODEC_KEYS is not set here/);
  });

  test(
    'the Web UI shows a workflow input decoded through the codec server',
    { skip: fs.existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (.ci/run installs it)` },
    async () => {
      const target = exports[0]!;
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        await page.goto(`http://127.0.0.1:${temporal.uiPort}/namespaces/default/workflows/${target.id}`, {
          timeout: 60_000,
        });
        await page.getByText(EXPORT_KEY).first().waitFor({ timeout: 60_000 });
        fs.mkdirSync(path.join(REPO_ROOT, 'test-artifacts'), { recursive: true });
        await page.screenshot({
          path: path.join(REPO_ROOT, 'test-artifacts', 'webui-codec-decoded-input.png'),
          fullPage: true,
        });
        assert.ok(await page.getByText(EXPORT_KEY).first().isVisible());
      } finally {
        await browser.close();
      }
    },
  );
});
