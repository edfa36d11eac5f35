import { execFile, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type Tool = 'curl' | 'tee' | 'bare' | 'engine' | 'engine1';

export interface Run {
  seconds: number;
  cpuSeconds: number;
  /** Only for the Node runs (sampled inside the process). */
  rssGrowth?: number;
  bytes: number;
  sha256: string;
  rows?: number | null;
}

const CURL = fs.existsSync('/usr/bin/curl') ? '/usr/bin/curl' : 'curl';

/** Starts bench/serve.ts; `run` fetches a URL with one tool into `<work>/out`. */
export async function startServer(work: string): Promise<{
  child: ChildProcess;
  base: string;
  /** `parallel` (engine only): that many downloads of the URL at once in one process; `bytes` is their sum. */
  run: (tool: Tool, url: string, file: string, parallel?: number) => Promise<Run>;
}> {
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
  const dir = path.join(work, 'out');
  const run = (tool: Tool, url: string, file: string, parallel = 1): Promise<Run> => {
    fs.mkdirSync(dir, { recursive: true });
    const target = path.join(dir, file);
    if (tool === 'curl' || tool === 'tee') return shell(tool, url, target);
    const args = [
      '--import',
      'tsx',
      path.join(__dirname, 'run-one.ts'),
      tool === 'bare' ? 'bare' : 'engine',
      url,
      dir,
      file,
    ];
    return node([...args, tool === 'engine1' ? '1' : '4', String(parallel)], target);
  };
  return { child, base: `http://127.0.0.1:${port}`, run };
}

function exec(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { maxBuffer: 1 << 20, timeout: 900_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} failed: ${err.message} ${stderr}`)) : resolve(stdout),
    ),
  );
}

/** curl (or curl | tee | sha256sum) under bash, whose `times` gives the CPU time of its children. */
async function shell(tool: 'curl' | 'tee', url: string, target: string): Promise<Run> {
  const cmd =
    tool === 'curl'
      ? `${CURL} -sS --fail -o "$2" "$1"`
      : `set -o pipefail; ${CURL} -sS --fail "$1" | tee "$2" | sha256sum >/dev/null`;
  const started = process.hrtime.bigint();
  const out = await exec('bash', ['-c', `${cmd}; times`, 'bench', url, target]);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const lines = out.trim().split('\n');
  const children = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(lines.at(-1) ?? '');
  const cpuSeconds = children
    ? Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4])
    : NaN;
  return { seconds, cpuSeconds, bytes: fs.statSync(target).size, sha256: await fileSha(target) };
}

async function node(args: string[], target: string): Promise<Run> {
  const out = await exec(process.execPath, args);
  const result = JSON.parse(out.trim().split('\n').at(-1)!) as Run;
  if (!fs.existsSync(target)) throw new Error(`${target} missing after ${args.join(' ')}`);
  return result;
}

async function fileSha(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
