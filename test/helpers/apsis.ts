import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { REPO_ROOT, childEnv } from './processes';

/**
 * A workflow's history as text with every payload decoded, so a test can search it for secrets. The history's
 * messages turn bytes into base64 when stringified, so they are walked by hand, never through toJSON.
 */
export async function historyText(client: Client, workflowId: string, runId?: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return JSON.stringify(decodeBytes(history));
}

function decodeBytes(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (Array.isArray(value)) return value.map(decodeBytes);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, decodeBytes(v)]));
  }
  return value;
}

/** History events of one workflow, for ordering assertions. */
export async function historyEvents(client: Client, workflowId: string) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return history.events ?? [];
}

export interface RecordingServer {
  url: string;
  requests: { method: string; path: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

/** An HTTP server that records what reaches it and answers 200 `{}`: a stand-in for a foreign host. */
export async function startSpyServer(): Promise<RecordingServer> {
  const requests: RecordingServer['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"profiles":{}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A pass-through proxy in front of the simulator (the Host header is kept, so URLs the simulator builds point
 * back at the proxy) that can hold a response back, e.g. to let a callback overtake the 202 it follows.
 */
export async function startDelayProxy(
  target: string,
): Promise<{ url: string; setDelay(fn: (method: string, path: string) => number): void; close(): Promise<void> }> {
  const upstream = new URL(target);
  let delayFor = (_method: string, _path: string): number => 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent: false,
        },
        (answer) => {
          setTimeout(
            () => {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(res);
            },
            delayFor(req.method ?? 'GET', req.url ?? '/'),
          );
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setDelay(fn) {
      delayFor = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Starts `exportflow callbacks` (the receiver alone) and resolves once it listens. */
export function spawnCallbackReceiver(env: Record<string, string>): {
  ready: Promise<void>;
  logs(): string;
  kill(): Promise<void>;
} {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'exportflow.cjs'), 'callbacks'], {
    env: childEnv(env),
    cwd: os.tmpdir(),
  });
  let logs = '';
  child.stdout.on('data', (d) => (logs += d));
  child.stderr.on('data', (d) => (logs += d));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`callback receiver did not start in 60 s:\n${logs}`)), 60_000);
    const check = () => {
      if (logs.includes('callback receiver listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`callback receiver exited with ${code}:\n${logs}`));
    });
  });
  ready.catch(() => undefined);
  return {
    ready,
    logs: () => logs,
    kill: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Text that must never appear in histories, logs or manifests: simulator access tokens are JWTs
 * (`eyJ<header>.eyJ<claims>.<43-char signature>`), or `sim.<32>` with `jwtTokens: false`.
 */
export const SIM_ACCESS_TOKEN = /sim\.[A-Za-z0-9_-]{32}|eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}/;

/**
 * The parts of an APSIS single-profile export document (src/simulator/apsis-profile.ts) the tests read: the
 * profiles by key, their sections by discriminator, and the optional metadata; everything else passes through.
 */
export const ProfileDocumentSchema = z.looseObject({
  profiles: z.record(
    z.string(),
    z.looseObject({
      sections: z.record(
        z.string(),
        z.looseObject({
          attributes: z.looseObject({ history: z.unknown().optional() }),
          events: z.unknown().optional(),
        }),
      ),
    }),
  ),
  metadata: z.looseObject({ sections: z.record(z.string(), z.unknown()) }).optional(),
});
export type ProfileDocument = z.infer<typeof ProfileDocumentSchema>;
