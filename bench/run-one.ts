/**
 * One measured download in a fresh process (so every run is "the first large file of a fresh worker"):
 *   node --import tsx bench/run-one.ts engine|bare <url> <dir> <fileName> [connections] [parallel]
 * With `parallel` > 1 the engine runs that many downloads of the URL at once (files `<fileName>`, `p1-<fileName>`,
 * ...), as a worker running that many download activities: bytes add up, CPU and RSS are the whole process's.
 * Prints one JSON line: seconds, bytes, cpuSeconds (this process, all threads, user + system, during the
 * download), rssGrowth (peak RSS sampled every 10 ms minus RSS just before the download), sha256, rows.
 * "bare" is the reference pipeline the issue describes: undici body -> sha256 + newline count -> file -> fsync.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { downloadToFile, enableYoungGenerationCollection } from '../src/activities/download/engine';

async function bare(url: string, file: string): Promise<{ bytes: number; sha256: string; rows: number }> {
  const res = await request(url);
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  let lines = 0;
  const check = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
      done(null, chunk);
    },
  });
  await pipeline(res.body, check, fs.createWriteStream(file));
  const fd = fs.openSync(file, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  return { bytes, sha256: hash.digest('hex'), rows: lines - 1 };
}

async function main(): Promise<void> {
  const [mode, url, dir, fileName, connections, parallel] = process.argv.slice(2) as [
    string,
    string,
    string,
    string,
    string?,
    string?,
  ];
  fs.mkdirSync(dir, { recursive: true });
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  let result: { bytes: number; sha256: string; rows: number | null };
  if (mode === 'bare') result = await bare(url, path.join(dir, fileName));
  else {
    // As the worker's download activity does (src/activities/download-in-activity.ts), so the figures are a worker's.
    enableYoungGenerationCollection();
    const outs = await Promise.all(
      Array.from({ length: Math.max(1, Number(parallel ?? 1)) }, async (_, i) => {
        const out = await downloadToFile({
          vendor: 'altcraft',
          url,
          headers: {},
          dir,
          fileName: i === 0 ? fileName : `p${i}-${fileName}`,
          countCsvRows: true,
          connections: Number(connections ?? 4),
          // What the activity does with each point: hand it to a heartbeat, which serialises it.
          onProgress: (point) => void JSON.stringify(point),
        });
        if (!out.ready) throw new Error(`not ready: ${out.status}`);
        return out.file;
      }),
    );
    if (outs.some((f) => f.sha256 !== outs[0]!.sha256)) throw new Error('parallel downloads stored different bytes');
    const bytes = outs.reduce((sum, f) => sum + f.bytes, 0);
    result = { bytes, sha256: outs[0]!.sha256, rows: outs[0]!.rows };
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  const cpuSeconds = (used.user + used.system) / 1e6;
  process.stdout.write(`${JSON.stringify({ seconds, cpuSeconds, rssGrowth: peak - baseline, ...result })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
