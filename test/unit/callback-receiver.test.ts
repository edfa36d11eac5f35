import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startCallbackReceiver, type CallbackReceiver } from '../../src/callbacks/receiver';
import {
  callbackToken,
  callbackUrlFor,
  parseCallbackPath,
  verifyCallbackToken,
} from '../../src/providers/apsis/callback-url';
import { createLogger } from '../../src/util/logger';
import type { ApsisCallbackSignal } from '../../src/shared/contract';

const SECRET = 'unit-test-callback-secret';

describe('callback tokens', () => {
  test('the token is an HMAC of the workflow id: stable, different per export and per secret', () => {
    const a = callbackToken(SECRET, 'export-apsis-profile-1');
    assert.equal(a, callbackToken(SECRET, 'export-apsis-profile-1'));
    assert.notEqual(a, callbackToken(SECRET, 'export-apsis-profile-2'));
    assert.notEqual(a, callbackToken('other-secret', 'export-apsis-profile-1'));
    assert.ok(verifyCallbackToken(SECRET, 'export-apsis-profile-1', a));
    assert.equal(verifyCallbackToken(SECRET, 'export-apsis-profile-2', a), false);
    assert.equal(verifyCallbackToken(SECRET, 'export-apsis-profile-1', a.slice(0, -1) + 'x'), false);
    assert.equal(verifyCallbackToken(SECRET, 'export-apsis-profile-1', ''), false);
  });

  test('the URL carries the encoded workflow id; its path parses back, with or without a proxy prefix', () => {
    const id = 'my:export@2026+x=1';
    const url = callbackUrlFor('https://hooks.example.com/exportflow/', SECRET, id);
    assert.ok(url.startsWith('https://hooks.example.com/exportflow/apsis/callback/my%3Aexport%402026%2Bx%3D1/'));
    const pathname = new URL(url).pathname;
    assert.deepEqual(parseCallbackPath(pathname), { workflowId: id, token: callbackToken(SECRET, id) });
    assert.deepEqual(parseCallbackPath(pathname.replace('/exportflow', '')), parseCallbackPath(pathname));
    assert.equal(parseCallbackPath('/apsis/callback/only-one-part'), undefined);
    assert.equal(parseCallbackPath('/apsis/callback/%E0%A4%A/tok'), undefined);
  });
});

describe('callback receiver', () => {
  let receiver: CallbackReceiver;
  const delivered: { workflowId: string; callback: ApsisCallbackSignal }[] = [];
  let failDelivery = false;
  const url = (workflowId: string, token = callbackToken(SECRET, workflowId)) =>
    `http://${receiver.address}/apsis/callback/${encodeURIComponent(workflowId)}/${token}`;
  const post = (target: string, body: unknown) =>
    fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  before(async () => {
    receiver = await startCallbackReceiver({
      listen: '127.0.0.1:0',
      secret: SECRET,
      logger: createLogger('silent'),
      delivery: {
        async deliver(workflowId, callback) {
          if (failDelivery) throw new Error('temporal unavailable');
          delivered.push({ workflowId, callback });
          return 'signalled';
        },
      },
    });
  });
  after(async () => receiver.close());
  beforeEach(() => {
    delivered.length = 0;
    failDelivery = false;
  });

  test('binds port 0 to a real port and reports it', () => {
    assert.match(receiver.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(receiver.address, '127.0.0.1:0');
  });

  test('a second receiver on the same address fails with a message naming CALLBACK_LISTEN', async () => {
    await assert.rejects(
      startCallbackReceiver({
        listen: receiver.address,
        secret: SECRET,
        logger: createLogger('silent'),
        delivery: { deliver: async () => 'signalled' },
      }),
      /CALLBACK_LISTEN 127\.0\.0\.1:\d+ is already in use/,
    );
  });

  test('code 100 gets 2xx and reaches no workflow; code 200 is delivered with the data URL', async () => {
    const verified = await post(url('wf-1'), { code: 100, message: 'Callback verified' });
    assert.equal(verified.status, 200);
    assert.deepEqual(delivered, []);
    const ready = await post(url('wf-1'), { code: 200, message: 'https://api.apsis.one/data/1?metadata=true' });
    assert.equal(ready.status, 200);
    assert.deepEqual(delivered, [
      { workflowId: 'wf-1', callback: { code: 200, message: 'https://api.apsis.one/data/1?metadata=true' } },
    ]);
  });

  test('a forged or foreign token is 401 and reaches no workflow; an unknown path is 404', async () => {
    const good = callbackToken(SECRET, 'wf-2');
    const forged = good.slice(0, -1) + (good.endsWith('x') ? 'y' : 'x');
    const body = { code: 200, message: 'https://evil.example/steal' };
    assert.equal((await post(url('wf-2', forged), body)).status, 401);
    assert.equal((await post(url('wf-3', good), body)).status, 401, "another export's token");
    assert.equal((await post(`http://${receiver.address}/somewhere/else`, body)).status, 404);
    assert.deepEqual(delivered, []);
  });

  test('bodies over 64 kB are 413, non-JSON and wrong shapes 400, other methods 405, none delivered', async () => {
    const big = { code: 200, message: `https://api.apsis.one/${'x'.repeat(70_000)}` };
    assert.equal((await post(url('wf-4'), big)).status, 413);
    assert.equal((await post(url('wf-4'), 'not json')).status, 400);
    assert.equal((await post(url('wf-4'), { code: 200, message: 'not a url' })).status, 400);
    assert.equal((await post(url('wf-4'), { code: '200' })).status, 400);
    assert.equal((await fetch(url('wf-4'))).status, 405);
    assert.deepEqual(delivered, []);
  });

  test('duplicates are accepted (2xx) each time; the workflow keeps the first', async () => {
    const body = { code: 200, message: 'https://api.apsis.one/data/2' };
    assert.equal((await post(url('wf-5'), body)).status, 200);
    assert.equal((await post(url('wf-5'), body)).status, 200);
    assert.equal(delivered.length, 2);
  });

  test('when Temporal cannot take the signal, the answer is 503 so APSIS tries again', async () => {
    failDelivery = true;
    assert.equal((await post(url('wf-6'), { code: 200, message: 'https://api.apsis.one/d' })).status, 503);
  });
});
