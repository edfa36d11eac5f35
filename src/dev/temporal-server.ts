import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { requiredSearchAttributes } from '../temporal/setup';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** `--search-attribute Name=Type` flags for the dev server (Web UI filters); see shared/search-attributes.ts. */
function searchAttributeFlags(): string[] {
  return requiredSearchAttributes().flatMap((a) => ['--search-attribute', `${a.name}=${a.cliType}`]);
}

/** Finds or installs the Temporal CLI via scripts/ensure-temporal (never via an SDK download). */
export async function ensureTemporalCli(): Promise<string> {
  const script = path.join(REPO_ROOT, 'scripts', 'ensure-temporal');
  const { stdout } = await promisify(execFile)('bash', [script], { maxBuffer: 1024 * 1024 });
  const cli = stdout.trim().split('\n').pop() ?? '';
  if (!cli || !fs.existsSync(cli))
    throw new Error(`scripts/ensure-temporal did not yield a temporal binary (got "${cli}")`);
  return cli;
}

export function splitHostPort(address: string): { host: string; port: number } {
  const idx = address.lastIndexOf(':');
  return { host: address.slice(0, idx) || '127.0.0.1', port: Number(address.slice(idx + 1)) };
}

/** True when something accepts TCP connections at host:port (cheap check before starting a server). */
export function portAnswers(address: string, timeoutMs = 1000): Promise<boolean> {
  const { host, port } = splitHostPort(address);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Waits until the Temporal frontend answers gRPC (a TCP accept alone comes earlier than readiness). */
export async function waitForTemporal(address: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`temporal server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`Temporal did not answer at ${address} within ${timeoutMs} ms: ${(lastError as Error)?.message}`);
}

export interface DevServerOptions {
  cli: string;
  address: string;
  namespace?: string;
  /** SQLite file; omit for an in-memory server (tests). */
  dbFile?: string;
  /** Web UI port; null for headless. */
  uiPort?: number | null;
  logFile?: string;
  /** Remote codec the Web UI calls to show encrypted payloads (`--ui-codec-endpoint`). */
  codecEndpoint?: string;
  /**
   * Its own process group (`exportflow dev`/`server`): a Ctrl-C in the terminal signals the whole foreground
   * group, and the server must outlive the worker's graceful stop, so only our stop() ends it, last.
   */
  ownProcessGroup?: boolean;
  /** Start without exportflow's search attributes (tests of a namespace that lacks them). */
  bareNamespace?: boolean;
  /** More `temporal server start-dev` flags (the actions bench adds `--metrics-port`). */
  extraArgs?: string[];
}

export interface DevServer {
  child: ChildProcess;
  address: string;
  uiUrl: string | null;
  stop(): Promise<void>;
}

/** A port another program holds: the message names it and says what to do. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

/** Resolves when nothing listens on host:port (we could bind it), else rejects with a PortInUseError. */
export function assertPortFree(host: string, port: number, what: string, advice: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE' && err.code !== 'EACCES') return resolve(); // not ours to judge: let it try
      reject(
        new PortInUseError(
          `port ${port} on ${host} (${what}) is ${err.code === 'EACCES' ? 'not allowed for this user' : 'already in use by another program'}: ` +
            `stop that program (\`ss -ltnp 'sport = :${port}'\` shows which), or ${advice}`,
        ),
      );
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Starts `temporal server start-dev` with exportflow's search attributes and waits until it answers. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const { host, port } = splitHostPort(opts.address);
  await assertPortFree(host, port, 'the Temporal frontend, TEMPORAL_ADDRESS', 'set TEMPORAL_ADDRESS to a free port');
  if (opts.uiPort !== null) {
    const uiPort = opts.uiPort ?? port + 1000;
    await assertPortFree(
      host,
      uiPort,
      'the Temporal Web UI',
      `start the server with another Web UI port (\`exportflow server --ui-port <port>\`)`,
    );
  }
  const args = ['server', 'start-dev', '--ip', host, '--port', String(port), '--log-level', 'warn'];
  if (opts.namespace && opts.namespace !== 'default') args.push('--namespace', opts.namespace);
  if (opts.dbFile) {
    fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  if (opts.uiPort === null) args.push('--headless');
  else if (opts.uiPort !== undefined) args.push('--ui-port', String(opts.uiPort));
  if (opts.codecEndpoint && opts.uiPort !== null) args.push('--ui-codec-endpoint', opts.codecEndpoint);
  if (!opts.bareNamespace) args.push(...searchAttributeFlags());
  args.push(...(opts.extraArgs ?? []));
  const out = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(opts.cli, args, { stdio: ['ignore', out, out], detached: opts.ownProcessGroup === true });
  if (typeof out === 'number') fs.closeSync(out);
  try {
    await waitForTemporal(opts.address, 60_000, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const uiUrl =
    opts.uiPort === null ? null : `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${opts.uiPort ?? port + 1000}`;
  return {
    child,
    address: opts.address,
    uiUrl,
    stop: () => stopChild(child),
  };
}

/** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
