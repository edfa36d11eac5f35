/**
 * `npm run bench` (first half): curl writing a 1 GiB file to disk vs. exportflow's download engine (what the
 * download activity runs: sha256 + CSV row count + .part + fsync + rename), plain and gzip, from the same local
 * HTTP server on 127.0.0.1 (its own process); then a 2 GiB file for the memory target. Prints a Markdown table.
 * Not a test: on a shared 2-core machine the numbers are noisy, so each pair runs --rounds times, alternating
 * curl and engine, and the table shows medians (peak RSS growth: the maximum).
 *   --mib <n>       size of the main file (default 1024)
 *   --big-mib <n>   size of the memory run (default 2048; 0 skips it)
 *   --rounds <n>    curl/engine pairs per row (default 3)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { downloadToFile } from '../src/activities/download/engine';
import { describeMachine, printTable } from './machine';

const MiB = 1024 * 1024;

interface CurlRun {
  seconds: number;
  fsyncSeconds: number;
  bytes: number;
}

interface EngineRun {
  seconds: number;
  bytes: number;
  /** CPU time of this process (all threads, user + system) during the download. */
  cpuSeconds: number;
  rssGrowth: number;
  rows: number | null;
}

async function startServer(): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'serve.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench server did not start in 60 s')), 60_000);
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

/** Time for curl to write the URL to `file` (and, separately, to fsync it, which the engine always does). */
async function curl(url: string, file: string): Promise<CurlRun> {
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('curl', ['-sS', '--fail', '-o', file, url], { stdio: ['ignore', 'ignore', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 600_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`curl exited with ${code}`));
    });
  });
  const seconds = elapsed(started);
  const syncStarted = process.hrtime.bigint();
  const handle = await fs.promises.open(file, 'r+');
  await handle.sync();
  await handle.close();
  return { seconds, fsyncSeconds: elapsed(syncStarted), bytes: fs.statSync(file).size };
}

/** The engine in this process, with its peak RSS growth sampled every 10 ms. */
async function engine(url: string, dir: string, fileName: string, countCsvRows: boolean): Promise<EngineRun> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const out = await downloadToFile({ vendor: 'altcraft', url, headers: {}, dir, fileName, countCsvRows });
  const seconds = elapsed(started);
  const used = process.cpuUsage(cpu);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  if (!out.ready) throw new Error(`engine: not ready (${out.status})`);
  return {
    seconds,
    bytes: out.file.bytes,
    cpuSeconds: (used.user + used.system) / 1e6,
    rssGrowth: peak - baseline,
    rows: out.file.rows,
  };
}

function elapsed(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function settle(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('sync'); // let the previous run's dirty pages reach the disk before the next one is timed
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mib: { type: 'string', default: '1024' },
      'big-mib': { type: 'string', default: '2048' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const size = Number(values.mib) * MiB;
  const bigSize = Number(values['big-mib']) * MiB;
  const rounds = Math.max(1, Number(values.rounds));
  const machine = describeMachine();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'exportflow-bench-'));
  const { child, base } = await startServer();
  try {
    const info = (await (await fetch(`${base}/info`)).json()) as { gzipMemberDecodedBytes: number };
    const gzipCopies = Math.max(1, Math.round(size / info.gzipMemberDecodedBytes));
    const plan = [
      { name: 'plain CSV', url: `${base}/plain/${size}`, file: 'bench.csv', countRows: true },
      { name: 'plain, sha256 only', url: `${base}/plain/${size}`, file: 'bench.csv', countRows: false },
      { name: 'gzip CSV', url: `${base}/gzip/${gzipCopies}`, file: 'bench.csv.gz', countRows: true },
      ...(bigSize > 0
        ? [
            {
              name: `plain CSV ${bigSize / 2 ** 30} GiB`,
              url: `${base}/plain/${bigSize}`,
              file: 'big.csv',
              countRows: true,
            },
          ]
        : []),
    ];
    // Warm-up (not reported): JIT, connection pools, the server's blocks.
    settle(work);
    await curl(`${base}/plain/${64 * MiB}`, path.join(work, 'warm'));
    await engine(`${base}/plain/${64 * MiB}`, path.join(work, 'e'), 'warm.csv', true);

    const table: (string | number)[][] = [];
    const mbps = (bytes: number, s: number) => (bytes / s / 1e6).toFixed(0);
    let gzipRows: number | null = null;
    let gzipEngineSeconds = 0;
    for (const v of plan) {
      const curls: CurlRun[] = [];
      const engines: EngineRun[] = [];
      for (let r = 0; r < rounds; r++) {
        settle(work);
        curls.push(await curl(v.url, path.join(work, 'curl.out')));
        settle(work);
        engines.push(await engine(v.url, path.join(work, 'engine'), v.file, v.countRows));
        if (engines.at(-1)!.bytes !== curls.at(-1)!.bytes) throw new Error(`${v.name}: byte counts differ`);
      }
      process.stderr.write(`done: ${v.name}\n`);
      const bytes = curls[0]!.bytes;
      const gib = (bytes / 2 ** 30).toFixed(2);
      const c = median(curls.map((x) => x.seconds));
      const cs = median(curls.map((x) => x.seconds + x.fsyncSeconds));
      const e = median(engines.map((x) => x.seconds));
      if (v.file.endsWith('.gz')) {
        gzipRows = engines[0]!.rows;
        gzipEngineSeconds = e;
      }
      table.push([`${v.name}: curl -o`, gib, c.toFixed(2), mbps(bytes, c), '1.00', '', '', '']);
      table.push([
        `${v.name}: curl -o, then fsync`,
        gib,
        cs.toFixed(2),
        mbps(bytes, cs),
        (c / cs).toFixed(2),
        '',
        '',
        '',
      ]);
      table.push([
        `${v.name}: **exportflow engine**`,
        gib,
        e.toFixed(2),
        mbps(bytes, e),
        `**${(c / e).toFixed(2)}**`,
        (cs / e).toFixed(2),
        median(engines.map((x) => x.cpuSeconds)).toFixed(2),
        `${(Math.max(...engines.map((x) => x.rssGrowth)) / MiB).toFixed(1)} MiB`,
      ]);
    }
    console.log(`\n## Download: curl vs. engine\n\n${machine}\n`);
    console.log(`Medians of ${rounds} alternating curl/engine rounds per row.\n`);
    printTable(
      ['run', 'GiB on the wire', 'seconds', 'MB/s', '× curl', '× curl+fsync', 'engine CPU s', 'peak RSS growth'],
      table,
    );
    const decoded = gzipCopies * info.gzipMemberDecodedBytes;
    console.log(
      `\ngzip: ${(decoded / 2 ** 30).toFixed(2)} GiB of CSV served gzip-compressed; the engine stores the gzip bytes ` +
        `and gunzips on the fly to count ${gzipRows} rows (${mbps(decoded, gzipEngineSeconds)} MB/s decoded).`,
    );
    console.log('\nTargets: engine ≥ 0.95× curl; ≤ 64 MiB peak RSS growth on the 2 GiB file.');
  } finally {
    child.kill('SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
