/**
 * `npm run bench` (second half): N concurrent Altcraft exports through the vendor simulator, a real Temporal dev
 * server and an in-process worker. Reports completions, p50/p95 overhead beyond the vendor's own time (the
 * simulated task takes --task-ms; everything else — create call, poll back-off, download, scheduling — is
 * overhead) and history events per export. Not a test: a shared 2-core machine makes the numbers noisy.
 *   --n 100,500        export counts, one round each (default 100,500)
 *   --rows 1000        rows per exported file
 *   --task-ms 2000     how long the simulated Altcraft task runs
 *   --vendor-rate 200  Altcraft activity starts per second on its task queue. The simulator has no quota, so the
 *                      default lifts the production limit (5/s) to measure exportflow itself; pass 5 to see the
 *                      quota at work (N exports then need at least N × ~5 activities / 5 s).
 * First, concurrent large downloads (0 skips): --downloads 10 files of --download-mib 256 at once in one fresh
 * worker process (bench/run-one.ts), each connection capped at --cap-mib 16 MiB/s by the bench's file server,
 * against one such file alone; --download-rounds 3 runs each. The vendor simulator generates CSV far too slowly to
 * serve gigabytes, so these run the download engine (what the download activity runs) against bench/serve.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { VENDOR_LIMITS } from '../src/worker';
import { describeMachine, printTable } from './machine';
import { startBenchStack } from './stack';
import { startServer, type Run } from './tools';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

const MiB = 1024 * 1024;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** N downloads at once in one fresh worker process against one alone: throughput, CPU per GiB, peak RSS growth. */
async function concurrentDownloads(n: number, mib: number, capMib: number, rounds: number): Promise<void> {
  const machine = describeMachine();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'exportflow-bench-downloads-'));
  const { child, base, run } = await startServer(work);
  const loads: number[] = [];
  const loadTimer = setInterval(() => loads.push(os.loadavg()[0]!), 5000);
  try {
    const url = `${base}/plain/${mib * MiB}${capMib > 0 ? `?cap=${capMib * MiB}` : ''}`;
    const settle = () => fs.rmSync(path.join(work, 'out'), { recursive: true, force: true });
    await run('engine', `${base}/plain/${64 * MiB}`, 'w.csv'); // warm-up: server blocks, tsx's compile cache
    const runs = new Map<number, Run[]>([
      [1, []],
      [n, []],
    ]);
    for (let r = 0; r < rounds; r++) {
      for (const parallel of runs.keys()) {
        settle();
        runs.get(parallel)!.push(await run('engine', url, 'c.csv', parallel));
      }
    }
    const table: (string | number)[][] = [];
    let alone: number | undefined;
    for (const [parallel, list] of runs) {
      const s = median(list.map((x) => x.seconds));
      const gib = list[0]!.bytes / 2 ** 30;
      const cpu = median(list.map((x) => x.cpuSeconds)) / gib;
      alone ??= cpu;
      const spread = (Math.max(...list.map((x) => x.seconds)) - Math.min(...list.map((x) => x.seconds))) / s;
      table.push([
        parallel,
        `${(list[0]!.bytes / MiB).toFixed(0)} MiB`,
        s.toFixed(2),
        (list[0]!.bytes / s / MiB).toFixed(0),
        cpu.toFixed(2),
        (cpu / alone).toFixed(2),
        `${(Math.max(...list.map((x) => x.rssGrowth ?? 0)) / MiB).toFixed(1)} MiB`,
        `±${((spread / 2) * 100).toFixed(0)} %`,
      ]);
    }
    console.log(`\n## Concurrent downloads in one worker\n\n${machine}\n`);
    const loadText = loads.length ? `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}` : 'n/a';
    console.log(
      `${mib} MiB files${capMib > 0 ? `, each connection capped at ${capMib} MiB/s` : ''}, 4 connections per file, ` +
        `one fresh process per run (peak RSS growth against its RSS before the downloads). Medians of ${rounds} ` +
        `runs. 1-minute load average during the run: ${loadText}.\n`,
    );
    printTable(
      [
        'downloads at once',
        'bytes',
        'seconds',
        'MiB/s together',
        'CPU-s/GiB',
        'CPU × one alone',
        'peak RSS growth (max)',
        'spread',
      ],
      table,
    );
    console.log(`\nTargets: peak RSS growth ≤ 128 MiB with ${n} at once; CPU per GiB no worse than one alone.`);
  } finally {
    clearInterval(loadTimer);
    child.kill('SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      downloads: { type: 'string', default: '10' },
      'download-mib': { type: 'string', default: '256' },
      'cap-mib': { type: 'string', default: '16' },
      'download-rounds': { type: 'string', default: '3' },
      n: { type: 'string', default: '100,500' },
      rows: { type: 'string', default: '1000' },
      'task-ms': { type: 'string', default: '2000' },
      'vendor-rate': { type: 'string', default: '200' },
      'timeout-s': { type: 'string', default: '900' },
    },
  });
  const downloads = Number(values.downloads);
  if (downloads > 0) {
    await concurrentDownloads(
      downloads,
      Number(values['download-mib']),
      Number(values['cap-mib']),
      Math.max(1, Number(values['download-rounds'])),
    );
  }
  const counts = values.n
    .split(',')
    .map(Number)
    .filter((c) => c > 0);
  if (counts.length === 0) return;
  const rows = Number(values.rows);
  const taskMs = Number(values['task-ms']);
  const vendorRate = Number(values['vendor-rate']);
  const machine = describeMachine();

  // The simulator has no quota: the bench decides how fast the Altcraft queue may start activities.
  // Its rate is the quota's (src/quota/config.ts sustainedRate: 90% of (limit - 4)), so ask for a bit more.
  process.env.EXPORTFLOW_QUOTA_ALTCRAFT = `${Math.ceil(vendorRate / 0.9 + 4)}/s`;
  const limits = VENDOR_LIMITS.altcraft as { maxConcurrent: number };
  limits.maxConcurrent = Math.max(limits.maxConcurrent, Math.min(200, vendorRate));

  const stack = await startBenchStack({
    name: 'concurrent',
    sim: { altcraft: { taskDurationMs: taskMs, rowsFor: () => rows } },
    env: { EXPORTFLOW_POLL_INITIAL: '500ms', EXPORTFLOW_POLL_MAX: '2s' },
  });
  const { client } = stack;
  const table: (string | number)[][] = [];
  try {
    for (const n of counts) {
      const started = Date.now();
      const ids = await mapLimited(
        Array.from({ length: n }, (_, i) => i + 1),
        50,
        async (sourceId) => (await client.start('altcraft', { sourceType: 'database', sourceId })).workflowId,
      );
      const deadline = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('timed out')), Number(values['timeout-s']) * 1000).unref(),
      );
      const results = await Promise.allSettled(ids.map((id) => Promise.race([client.result(id), deadline])));
      const wallS = (Date.now() - started) / 1000;
      const manifests = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const overheads = manifests
        .map((m) => Date.parse(m.finishedAt) - Date.parse(m.startedAt) - taskMs)
        .sort((a, b) => a - b);
      const events = (
        await mapLimited(ids, 20, async (id) => (await client.temporal.workflow.getHandle(id).fetchHistory()).events)
      ).map((e) => e?.length ?? 0);
      const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      if (failed.length > 0) console.error(`n=${n}: first failure: ${String(failed[0]!.reason)}`);
      table.push([
        n,
        `${manifests.length}/${n}`,
        wallS.toFixed(1),
        (percentile(overheads, 50) / 1000).toFixed(2),
        (percentile(overheads, 95) / 1000).toFixed(2),
        (events.reduce((a, b) => a + b, 0) / events.length).toFixed(1),
        Math.max(...events),
      ]);
      process.stderr.write(`done: ${n} exports\n`);
    }
    console.log(`\n## Concurrent Altcraft exports\n\n${machine}\n`);
    console.log(
      `Simulated task ${taskMs} ms, ${rows} rows per file, polls every 0.5 s → 2 s with back-off, ` +
        `Altcraft queue ${vendorRate} activity starts/s (production: 5/s), one in-process worker, dev server (SQLite in memory).\n`,
    );
    printTable(
      [
        'exports',
        'completed',
        'wall s',
        'p50 overhead s',
        'p95 overhead s',
        'history events / export (mean)',
        'history events (max)',
      ],
      table,
    );
    console.log('\nTarget: all concurrent exports complete.');
  } finally {
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
