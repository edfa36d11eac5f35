import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { firstHeartbeatAfterMs, keepAlive } from '../../src/activities/context';

/**
 * keepAlive (src/activities/context.ts): a call that ends well inside its heartbeat timeout sends no heartbeat
 * (each heartbeat that reaches the server is a billable action); a slow one heartbeats, and a cancellation
 * still reaches it through those heartbeats.
 */

function envWith(heartbeatTimeoutMs: number): { env: MockActivityEnvironment; beats: unknown[] } {
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs });
  const beats: unknown[] = [];
  env.on('heartbeat', (d: unknown) => beats.push(d));
  return { env, beats };
}

test('the first heartbeat waits min(5 s, 40% of the heartbeat timeout)', () => {
  assert.equal(firstHeartbeatAfterMs(30_000), 5000);
  assert.equal(firstHeartbeatAfterMs(2000), 800);
  assert.equal(firstHeartbeatAfterMs(undefined), 5000);
});

test('a status call that answers in milliseconds sends no heartbeat', async () => {
  const { env, beats } = envWith(30_000);
  const out = await env.run(() => keepAlive(async () => 'processing'));
  assert.equal(out, 'processing');
  await delay(50);
  assert.equal(beats.length, 0);
});

test('a slow call heartbeats (with its latest details) once it has run for a while', async () => {
  const { env, beats } = envWith(1000); // first heartbeat after 400 ms, then every second
  let point = 0;
  await env.run(() =>
    keepAlive(
      async () => {
        point = 7;
        await delay(1600);
      },
      () => ({ offset: point }),
    ),
  );
  assert.ok(beats.length >= 2, `${beats.length} heartbeats in 1.6 s`);
  assert.deepEqual(beats[0], { offset: 7 });
});

test('a cancellation reaches a running call through its signal', async () => {
  const { env } = envWith(1000);
  const started = Date.now();
  const run = env.run(() =>
    keepAlive(
      (signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    ),
  );
  setTimeout(() => env.cancel(), 600);
  await assert.rejects(run, /aborted|cancel/i);
  assert.ok(Date.now() - started < 5000);
});
