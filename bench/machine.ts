import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/** One line describing the machine a benchmark ran on, for RESULTS.md. */
export function describeMachine(): string {
  const cpu =
    /model name\s*:\s*(.+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? os.cpus()[0]?.model;
  let nproc = String(os.cpus().length);
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // os.cpus() is close enough
  }
  const ramGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `${new Date().toISOString()} · nproc ${nproc} · ${ramGiB} GiB RAM · ${cpu} · node ${process.version} · load avg ${load}`;
}

/** Prints rows as a Markdown table. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  console.log(line(headers));
  console.log(line(headers.map(() => '---')));
  for (const row of rows) console.log(line(row));
}
