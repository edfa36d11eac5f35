import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, childEnv, runCli, tempDir } from '../helpers/processes';
import { freePort, startTestTemporal } from '../helpers/temporal';

const BIN = path.join(REPO_ROOT, 'bin', 'exportflow.cjs');

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs `exportflow <args>` whose reader has gone away: our end of its stdout pipe is closed before it writes. */
function runIntoClosedPipe(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: childEnv(env),
      cwd: os.tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`exportflow ${args.join(' ')} did not end in ${timeoutMs} ms\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

/** A TCP listener on 127.0.0.1 that accepts and says nothing: "another program" holding a port. */
async function occupy(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/**
 * Small frictions a person meets at the terminal: a closed pipe, a busy port. Real processes, real exit statuses.
 */
describe('the command at a terminal', () => {
  const root = tempDir('frictions');
  let temporal: Awaited<ReturnType<typeof startTestTemporal>> | undefined;

  before(async () => {
    temporal = await startTestTemporal();
  });
  after(async () => {
    await temporal?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('`exportflow --help | head -1`: a closed stdout ends it quietly with status 141, as SIGPIPE would', async () => {
    const r = await runIntoClosedPipe(['--help'], {});
    assert.equal(r.stderr, '');
    assert.equal(r.code, 141);
  });

  test('`exportflow list | head`: the same against a real Temporal', async () => {
    const env = { TEMPORAL_ADDRESS: temporal!.address, EXPORTFLOW_TASK_QUEUE: `t-frictions-${process.pid}` };
    const listed = await runCli(['list'], env, 60_000);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(listed.stdout.length > 0, 'list writes something, so the closed pipe is met');
    const r = await runIntoClosedPipe(['list'], env);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 141);
  });

  test('`exportflow server` with its Web UI port taken names the port and says what to do', async () => {
    const busy = await occupy();
    try {
      const address = `127.0.0.1:${await freePort()}`;
      const env = { TEMPORAL_ADDRESS: address, EXPORTFLOW_DATA_DIR: path.join(root, 'ui') };
      const r = await runCli(['server', '--ui-port', String(busy.port)], env, 120_000);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`port ${busy.port} on 127\\.0\\.0\\.1 \\(the Temporal Web UI\\) is already in use`),
      );
      assert.match(r.stderr, /--ui-port <port>/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(
        await new Promise((res) =>
          net
            .connect(Number(address.split(':')[1]), '127.0.0.1')
            .once('connect', () => res(true))
            .once('error', () => res(false)),
        ),
        false,
        'no server was left running',
      );
    } finally {
      await busy.close();
    }
  });

  test('`exportflow server` where another program holds TEMPORAL_ADDRESS says so, not "did not answer"', async () => {
    const busy = await occupy();
    try {
      const env = { TEMPORAL_ADDRESS: `127.0.0.1:${busy.port}`, EXPORTFLOW_DATA_DIR: path.join(root, 'frontend') };
      const r = await runCli(['server'], env, 120_000);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`something listens at 127\\.0\\.0\\.1:${busy.port} \\(TEMPORAL_ADDRESS\\)`));
      assert.match(r.stderr, /set TEMPORAL_ADDRESS to a free port/);
    } finally {
      await busy.close();
    }
  });

  test('logs: JSON lines when stderr is not a terminal, readable lines on a terminal or with LOG_FORMAT=pretty', async () => {
    const env = { TEMPORAL_ADDRESS: temporal!.address, EXPORTFLOW_DATA_DIR: path.join(root, 'logs') };
    const message = 'using the Temporal server already answering there';

    const piped = await runCli(['server'], env, 60_000);
    assert.equal(piped.code, 0, piped.stderr);
    const line = piped.stderr.split('\n').find((l) => l.includes(message));
    assert.ok(line, piped.stderr);
    assert.equal((JSON.parse(line) as { msg: string }).msg, message);

    const asked = await runCli(['server'], { ...env, LOG_FORMAT: 'pretty' }, 60_000);
    assert.equal(asked.code, 0, asked.stderr);
    assert.match(asked.stderr, new RegExp(`INFO.*${message}`));
    assert.doesNotMatch(asked.stderr, /"msg":/);

    // A real terminal: util-linux `script` gives the command a pseudo-terminal as stdout and stderr.
    const tty = await new Promise<string>((resolve, reject) => {
      const child = spawn('script', ['-qec', `'${process.execPath}' '${BIN}' server`, '/dev/null'], {
        env: childEnv(env),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
    assert.match(tty, new RegExp(`INFO.*${message}`), tty);
    assert.doesNotMatch(tty, /"msg":/);

    const bad = await runCli(['server'], { ...env, LOG_FORMAT: 'yaml' }, 60_000);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /LOG_FORMAT/);
  });
});
