/**
 * `npm run bench` (first half): one local file server (its own process), four ways to fetch the same URL, side by
 * side: curl; `curl | tee | sha256sum`; a bare Node pipeline (bench/run-one.ts bare); and exportflow's download
 * engine (what the download activity runs: sha256 + CSV rows + .part + fsync + rename, with
 * EXPORTFLOW_DOWNLOAD_CONNECTIONS ranges where the server allows). Node runs are fresh processes, so each is the
 * first large download of a fresh worker; CPU is that process (all threads), curl's CPU comes from bash `times`.
 * Each cell is the median of --rounds runs, tools alternating within a round; the spread says how noisy it was.
 *   --mib <n>       size of the main file (default 1024)      --big-mib <n>  memory run (default 2048; 0 skips)
 *   --rounds <n>    runs per cell (default 3)                 --quick        small sizes, for a smoke run
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine, printTable } from './machine';
import { startServer, type Run, type Tool } from './tools';

const MiB = 1024 * 1024;

interface Case {
  name: string;
  url: string;
  file: string;
  tools: Tool[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function settle(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('sync'); // the previous run's dirty pages reach the disk before the next one is timed
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mib: { type: 'string', default: '1024' },
      'big-mib': { type: 'string', default: '2048' },
      rounds: { type: 'string', default: '3' },
      quick: { type: 'boolean', default: false },
    },
  });
  const q = values.quick;
  const size = (q ? 128 : Number(values.mib)) * MiB;
  const bigSize = (q ? 0 : Number(values['big-mib'])) * MiB;
  const cap32 = (q ? 64 : 256) * MiB;
  const cap16 = (q ? 64 : 256) * MiB;
  const rounds = Math.max(1, Number(values.rounds));
  const machine = describeMachine();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'exportflow-bench-'));
  const { child, base, run } = await startServer(work);
  const loads: number[] = [];
  const loadTimer = setInterval(() => loads.push(os.loadavg()[0]!), 5000);
  try {
    const info = (await (await fetch(`${base}/info`)).json()) as { gzipMemberDecodedBytes: number };
    const gzipCopies = Math.max(1, Math.round(size / info.gzipMemberDecodedBytes));
    const all: Tool[] = ['curl', 'tee', 'bare', 'engine'];
    const cases: Case[] = [
      { name: `plain ${size / MiB} MiB`, url: `${base}/plain/${size}`, file: 'b.csv', tools: all },
      { name: 'gzip', url: `${base}/gzip/${gzipCopies}`, file: 'b.csv.gz', tools: all },
      ...(bigSize > 0
        ? [{ name: `plain ${bigSize / 2 ** 30} GiB`, url: `${base}/plain/${bigSize}`, file: 'big.csv', tools: all }]
        : []),
      {
        name: `${cap32 / MiB} MiB, 32 MiB/s per connection`,
        url: `${base}/plain/${cap32}?cap=${32 * MiB}`,
        file: 'c.csv',
        tools: [...all, 'engine1'],
      },
      {
        name: `${cap16 / MiB} MiB, 16 MiB/s per connection`,
        url: `${base}/plain/${cap16}?cap=${16 * MiB}`,
        file: 'd.csv',
        tools: [...all, 'engine1'],
      },
    ];
    // Warm-up (not reported): the server's blocks, the page cache, tsx's compile cache.
    settle(work);
    await run('curl', `${base}/plain/${64 * MiB}`, 'w.csv');
    await run('engine', `${base}/plain/${64 * MiB}`, 'w.csv');

    const table: (string | number)[][] = [];
    const notes: string[] = [];
    for (const c of cases) {
      const runs = new Map<Tool, Run[]>(c.tools.map((t) => [t, []]));
      let reference: string | undefined;
      for (let r = 0; r < rounds; r++) {
        for (const tool of c.tools) {
          settle(work);
          const result = await run(tool, c.url, c.file);
          reference ??= result.sha256;
          if (result.sha256 !== reference) throw new Error(`${c.name}: ${tool} stored other bytes than the others`);
          runs.get(tool)!.push(result);
        }
      }
      process.stderr.write(`done: ${c.name}\n`);
      const wire = runs.get('curl')![0]!.bytes;
      const gib = wire / 2 ** 30;
      const curlS = median(runs.get('curl')!.map((x) => x.seconds));
      const bareCpu = runs.has('bare') ? median(runs.get('bare')!.map((x) => x.cpuSeconds)) / gib : undefined;
      for (const [tool, list] of runs) {
        const s = median(list.map((x) => x.seconds));
        const cpu = median(list.map((x) => x.cpuSeconds)) / gib;
        const spread = (Math.max(...list.map((x) => x.seconds)) - Math.min(...list.map((x) => x.seconds))) / s;
        const rss = list.some((x) => x.rssGrowth !== undefined)
          ? `${(Math.max(...list.map((x) => x.rssGrowth ?? 0)) / MiB).toFixed(1)} MiB`
          : '';
        table.push([
          c.name,
          TOOL_NAMES[tool],
          s.toFixed(2),
          (wire / s / 1e6).toFixed(0),
          tool === 'curl' ? '1.00' : (curlS / s).toFixed(2),
          cpu.toFixed(2),
          bareCpu !== undefined && tool.startsWith('engine') ? (cpu / bareCpu).toFixed(2) : '',
          rss,
          `±${((spread / 2) * 100).toFixed(0)} %`,
        ]);
      }
      if (c.name === 'gzip') {
        const rows = runs.get('engine')![0]!.rows;
        notes.push(
          `gzip: ${((gzipCopies * info.gzipMemberDecodedBytes) / 2 ** 30).toFixed(2)} GiB of CSV served ` +
            `gzip-compressed (${gib.toFixed(2)} GiB on the wire); the engine stores the gzip bytes and gunzips them ` +
            `beside the download to count ${rows} rows; the other tools only hash and count newlines of the gzip bytes.`,
        );
      }
    }
    console.log(`\n## Download: curl, curl | tee | sha256sum, bare Node pipeline, engine\n\n${machine}\n`);
    const loadText = loads.length ? `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}` : 'n/a';
    console.log(
      `Medians of ${rounds} runs per cell, tools alternating. 1-minute load average during the run: ${loadText}.\n`,
    );
    printTable(
      ['case', 'tool', 'seconds', 'MB/s', '× curl', 'CPU-s/GiB', 'CPU × bare', 'peak RSS growth', 'spread'],
      table,
    );
    for (const note of notes) console.log(`\n${note}`);
  } finally {
    clearInterval(loadTimer);
    child.kill('SIGTERM');
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const TOOL_NAMES: Record<Tool, string> = {
  curl: 'curl -o',
  tee: 'curl \\| tee \\| sha256sum',
  bare: 'bare Node pipeline',
  engine: '**exportflow engine**',
  engine1: 'exportflow engine, 1 connection',
};

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
