/**
 * Records the histories of real export runs as replay fixtures: `npm run record-histories [-- --label X]
 * [--only name,name]`. Each scenario (test/replay/scenarios.ts) runs against a real Temporal dev server, the
 * vendor simulator and a real `exportflow worker` process built from the code in this tree; every run of its
 * workflow chain (continue-as-new included) is saved as test/replay/histories/<label>/<scenario>[.runN].json,
 * the JSON `temporal workflow show --output json` writes, and listed in index.json. No payload codec is used,
 * so the fixtures are readable and replay without keys. Re-running a label overwrites its files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { History } from '@temporalio/common/lib/proto-utils';
import { ExportClient, ExportFailedError } from '../src/client';
import { readConfig } from '../src/config';
import { APSIS_DEFAULTS } from '../src/simulator/apsis';
import { ALTCRAFT_DEFAULTS } from '../src/simulator/altcraft';
import { MYTRACKER_DEFAULTS } from '../src/simulator/mytracker';
import { startSimulator } from '../src/simulator';
import { startDelayProxy } from '../test/helpers/apsis';
import { testEnv } from '../test/helpers/env';
import { REPO_ROOT, spawnWorker } from '../test/helpers/processes';
import { startTestTemporal } from '../test/helpers/temporal';
import type { FixtureEntry } from '../test/replay/fixtures';
import { historyToJSON } from '../test/replay/history-json';
import { SCENARIOS, type Scenario, type ScenarioContext } from '../test/replay/scenarios';

const { values } = parseArgs({
  options: { label: { type: 'string', default: 'current' }, only: { type: 'string' } },
});
const label = values.label!;
if (!/^[A-Za-z0-9._-]+$/.test(label)) {
  console.error(`record-histories: --label must be letters, digits, . _ - (got ${JSON.stringify(label)})`);
  process.exit(2);
}
const only = values.only?.split(',').filter(Boolean);
const unknown = (only ?? []).filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length > 0) {
  console.error(`record-histories: --only names unknown scenarios: ${unknown.join(', ')}`);
  process.exit(2);
}
const outDir = path.join(REPO_ROOT, 'test', 'replay', 'histories', label);

async function main(): Promise<void> {
  const temporal = await startTestTemporal();
  const sim = await startSimulator();
  const proxy = await startDelayProxy(sim.url);
  // No EXPORTFLOW payload codec or encryption setting here: fixtures must replay without keys.
  const env = { ...testEnv(temporal.address, sim, 'record'), APSIS_BASE_URL: proxy.url };
  const worker = spawnWorker(env);
  const client = await ExportClient.connect({}, readConfig(env));
  const ctx: ScenarioContext = { sim, setApsisDelay: (fn) => proxy.setDelay(fn), client };
  const entries: FixtureEntry[] = [];
  try {
    await worker.ready;
    fs.mkdirSync(outDir, { recursive: true });
    for (const scenario of SCENARIOS.filter((s) => !only || only.includes(s.name))) {
      sim.reset();
      Object.assign(sim.altcraft.config, { ...ALTCRAFT_DEFAULTS, taskDurationMs: 800, downloadBytesPerSec: undefined });
      Object.assign(sim.apsis.config, { ...APSIS_DEFAULTS, reportReadyAfterMs: 800, callbackDelayMs: 300 });
      Object.assign(sim.mytracker.config, {
        ...MYTRACKER_DEFAULTS,
        exportDurationMs: 800,
        files: 2,
        downloadBytesPerSec: undefined,
      });
      proxy.setDelay(() => 0);
      const started = Date.now();
      const recorded = await record(scenario, ctx);
      entries.push(...recorded);
      console.log(
        `${scenario.name}: ${recorded[recorded.length - 1]!.outcome}, ${recorded.length} run(s), ` +
          `${recorded.map((e) => e.events).join('+')} events, ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    }
    const indexFile = path.join(outDir, 'index.json');
    const previous: FixtureEntry[] =
      only && fs.existsSync(indexFile) ? JSON.parse(fs.readFileSync(indexFile, 'utf8')) : [];
    const kept = previous.filter((e) => !entries.some((n) => n.scenario === e.scenario));
    const all = [...kept, ...entries].sort((a, b) => a.file.localeCompare(b.file));
    fs.writeFileSync(indexFile, `${JSON.stringify(all, null, 2)}\n`);
    // A scenario recorded again may have fewer runs than before: its older extra runs must not linger unlisted.
    const listed = new Set(all.map((e) => e.file));
    for (const file of fs.readdirSync(outDir)) {
      if (file !== 'index.json' && file.endsWith('.json') && !listed.has(file)) fs.rmSync(path.join(outDir, file));
    }
    console.log(`wrote ${entries.length} histories to ${path.relative(REPO_ROOT, outDir)}`);
  } finally {
    await client.close();
    await worker.kill('SIGTERM');
    await proxy.close();
    await sim.close();
    await temporal.stop();
  }
}

async function record(scenario: Scenario, ctx: ScenarioContext): Promise<FixtureEntry[]> {
  scenario.setup?.(ctx);
  const workflowId = `replay-${scenario.name}`;
  const input = { ...scenario.input, ...(scenario.timing ? { timing: scenario.timing } : {}) };
  await ctx.client.start(scenario.provider, input, { workflowId });
  const driving = scenario.drive?.(ctx, workflowId);
  let outcome: string;
  try {
    await ctx.client.result(workflowId);
    outcome = 'completed';
  } catch (err) {
    if (!(err instanceof ExportFailedError)) throw err;
    outcome = err.status === 'cancelled' ? 'cancelled' : `failed:${err.type}`;
  }
  await driving;
  if (outcome.split(':')[0] !== scenario.expect) {
    throw new Error(`scenario ${scenario.name} ended ${outcome}, expected ${scenario.expect}; nothing recorded`);
  }

  // Walk the continue-as-new chain back from the last run to the first.
  const histories: History[] = [];
  let runId: string | undefined;
  for (;;) {
    const history = await ctx.client.temporal.workflow.getHandle(workflowId, runId).fetchHistory();
    histories.unshift(history);
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    runId = started?.continuedExecutionRunId || undefined;
    if (!runId) break;
  }
  if (histories.length < (scenario.minRuns ?? 1)) {
    throw new Error(`scenario ${scenario.name} made ${histories.length} run(s), expected at least ${scenario.minRuns}`);
  }
  return histories.map((history, i) => {
    const file = histories.length === 1 ? `${scenario.name}.json` : `${scenario.name}.run${i + 1}.json`;
    fs.writeFileSync(path.join(outDir, file), `${historyToJSON(history)}\n`);
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    return {
      file,
      scenario: scenario.name,
      workflowType: started?.workflowType?.name ?? '?',
      workflowId,
      run: i + 1,
      runs: histories.length,
      outcome: i === histories.length - 1 ? outcome : 'continued-as-new',
      events: history.events?.length ?? 0,
    };
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
