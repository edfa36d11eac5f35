import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { ExportClient } from '../../src/client';
import { readConfig } from '../../src/config';
import { startSimulator, type Simulator } from '../../src/simulator';
import { testEnv } from '../helpers/env';
import { REPO_ROOT, runCli, spawnWorker, waitFor, type WorkerProcess } from '../helpers/processes';
import { startTestTemporal } from '../helpers/temporal';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');

/**
 * Operators find exports in the Temporal Web UI: a real headless Chromium opens the dev server's UI, filters by
 * ExportProvider="altcraft" and must see the export. The screenshot is kept in test-artifacts/.
 */
describe(
  'Temporal Web UI',
  { skip: fs.existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (.ci/run installs it)` },
  () => {
    let temporal: Awaited<ReturnType<typeof startTestTemporal>>;
    let sim: Simulator;
    let env: Record<string, string>;
    let worker: WorkerProcess;
    let browser: Browser;

    before(async () => {
      temporal = await startTestTemporal({ ui: true });
      sim = await startSimulator({ altcraft: { taskDurationMs: 300 } });
      env = testEnv(temporal.address, sim, 'webui');
      worker = spawnWorker(env);
      await worker.ready;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
    });

    after(async () => {
      await browser?.close();
      await worker?.kill('SIGTERM');
      await sim?.close();
      await temporal?.stop();
    });

    test('an Altcraft export is listed when filtering by ExportProvider="altcraft"', async () => {
      const res = await runCli(
        ['export', 'altcraft', '--source-type', 'database', '--source-id', '5', '--wait', '--json'],
        env,
      );
      assert.equal(res.code, 0, res.stderr);
      const { workflowId } = JSON.parse(res.stdout);
      const client = await ExportClient.connect({}, readConfig(env));
      try {
        await waitFor('visibility to index the export', async () =>
          (await client.list({ provider: 'altcraft', phase: 'completed' })).some((r) => r.workflowId === workflowId),
        );
      } finally {
        await client.close();
      }
      const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
      const query = encodeURIComponent('ExportProvider="altcraft"');
      await page.goto(`http://127.0.0.1:${temporal.uiPort}/namespaces/default/workflows?query=${query}`, {
        timeout: 60_000,
      });
      await page.getByText(workflowId).first().waitFor({ timeout: 60_000 });
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'webui-altcraft-filter.png') });
      assert.ok(await page.getByText(workflowId).first().isVisible());

      // The same filter for another provider must not list it: the filter really filters.
      await page.goto(
        `http://127.0.0.1:${temporal.uiPort}/namespaces/default/workflows?query=${encodeURIComponent('ExportProvider="mytracker"')}`,
      );
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(1000);
      assert.equal(await page.getByText(workflowId).count(), 0);
      await page.close();
    });
  },
);
