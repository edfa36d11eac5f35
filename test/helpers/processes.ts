import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(REPO_ROOT, 'bin', 'exportflow.cjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Environment for CLI and worker children: only what the test passes, plus PATH/HOME to find node and tools.
 * EXPORTFLOW_FROM_SOURCE=1 makes bin/exportflow.cjs run src/ even when a dist/ from an earlier build exists,
 * so the tests always exercise the code under test (the package test overrides it to test dist/).
 * EXPORTFLOW_WORKFLOW_BUNDLE_DIR, when scripts/test set it, holds the workflow bundles it built from this tree,
 * so the suite's many worker starts skip webpack (a test passes '' to make a worker bundle at start).
 */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'TEMPORAL_CLI_PATH', 'LANG', 'EXPORTFLOW_WORKFLOW_BUNDLE_DIR'];
  const env: NodeJS.ProcessEnv = {};
  for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key];
  return { ...env, LOG_LEVEL: 'info', EXPORTFLOW_FROM_SOURCE: '1', ...extra };
}

/** Runs `exportflow <args>` to completion (bounded by timeoutMs) and collects its output. */
export function runCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
  cwd?: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: childEnv(env), cwd: cwd ?? os.tmpdir() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`exportflow ${args.join(' ')} did not finish in ${timeoutMs} ms\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything the worker wrote to stderr (its JSON logs). */
  logs(): string;
  /** Resolves once the worker logged that it started. */
  ready: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `exportflow worker` as a separate process, so tests can kill -9 it like a crashed machine. */
export function spawnWorker(env: Record<string, string>, logFile?: string): WorkerProcess {
  const child = spawn(process.execPath, [BIN, 'worker'], { env: childEnv(env), cwd: os.tmpdir() });
  let logs = '';
  child.stdout.on('data', (d) => (logs += d));
  child.stderr.on('data', (d) => {
    logs += d;
    if (logFile) fs.appendFileSync(logFile, d);
  });
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start in 90 s:\n${logs}`)), 90_000);
    const check = () => {
      if (logs.includes('"worker started"')) {
        clearTimeout(timer);
        child.stderr.off('data', check);
        resolve();
      }
    };
    child.stderr.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before starting:\n${logs}`));
    });
  });
  ready.catch(() => undefined);
  return {
    child,
    logs: () => logs,
    ready,
    kill: (signal: NodeJS.Signals = 'SIGKILL') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** Polls `check` until it returns a truthy value or the time is up. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `exportflow-${prefix}-`));
}
