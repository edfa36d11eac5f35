import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { callbackToken } from '../../src/providers/apsis/callback-url';
import { ExportFailedError } from '../../src/client';
import { callbackSecret, readConfig } from '../../src/config';
import type { Simulator } from '../../src/simulator';
import { forgeCallbackUrl, profileDocument } from '../../src/simulator/apsis-profile';
import { historyEvents, startSpyServer, type RecordingServer } from '../helpers/apsis';
import { waitFor } from '../helpers/processes';
import { startStack, type TestStack } from '../helpers/stack';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

/**
 * The APSIS callback receiver faces the internet. Forged tokens, replays for a finished export, oversized and
 * malformed bodies, and code-200 callbacks whose data URL points at a foreign or internal host (another port on
 * 127.0.0.1, file://, a redirect from the APSIS host to a foreign one): none becomes a signal to a workflow that
 * is not genuinely APSIS's answer, and no request with credentials reaches any other host.
 */
describe('callback receiver under attack', () => {
  let stack: TestStack;
  let sim: Simulator;
  let spy: RecordingServer;
  let internal: RecordingServer;
  let secret: string;
  const attacks: { attack: string; status: number; expected: string }[] = [];

  before(async () => {
    stack = await startStack('cb-attacks', { sim: { apsis: { callbackDelayMs: 100 } } });
    sim = stack.sim;
    spy = await startSpyServer();
    internal = await startSpyServer();
    secret = callbackSecret(readConfig(stack.env));
  });

  after(async () => {
    if (attacks.length > 0) {
      console.log(`\ncallback attacks: ${attacks.length} sent, statuses:`);
      console.table(attacks);
    }
    await stack?.stop();
    await spy?.close();
    await internal?.close();
  });

  const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');
  const signals = async (workflowId: string) =>
    (await historyEvents(stack.client.temporal, workflowId)).filter((e) => e.workflowExecutionSignaledEventAttributes);

  /** POSTs a body (string, object or Buffer) to the receiver and records the answer. */
  async function attack(name: string, url: string, body: unknown, expected: number, method = 'POST'): Promise<void> {
    const res = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(method === 'POST' ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    await res.arrayBuffer();
    attacks.push({ attack: name, status: res.status, expected: String(expected) });
    assert.equal(res.status, expected, name);
  }

  /** A body over the receiver's limit sent without Content-Length (chunked), so only reading can catch it. */
  function postChunked(url: string, bytes: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (err) => (req.destroyed ? resolve(0) : reject(err)));
      const chunk = Buffer.alloc(16 * 1024, 'x');
      for (let sent = 0; sent < bytes; sent += chunk.length) req.write(chunk);
      req.end();
    });
  }

  async function startProfile(exportKey: string, workflowId: string): Promise<void> {
    await stack.client.start('apsis-profile', { exportKey, timing: { maxWaitMs: 300_000 } }, { workflowId });
    await waitFor('the export to be requested at APSIS', () =>
      sim.apsis.profileExports().some((e) => e.exportKey === exportKey),
    );
  }

  const exportOf = (exportKey: string) => sim.apsis.profileExports().find((e) => e.exportKey === exportKey)!;

  test('forged tokens, bad paths, oversized and malformed bodies and foreign data URLs reach no workflow', async () => {
    sim.apsis.config.omitCallback = true; // only code 100: the export keeps waiting while it is attacked
    const id = 'cb-target';
    await startProfile('target@example.test', id);
    const exp = exportOf('target@example.test');
    const real = exp.callbackUrl;
    const base = real.slice(0, real.indexOf('/apsis/callback/'));
    const ok = (message: string) => ({ code: 200, message });
    const legit = ok(exp.dataUrl);

    await attack('token with one character changed', forgeCallbackUrl(real), legit, 401);
    await attack(
      'token of this export on another export id',
      `${base}/apsis/callback/other-export/${callbackToken(secret, id)}`,
      legit,
      401,
    );
    await attack(
      'token made with another secret',
      `${base}/apsis/callback/${id}/${callbackToken('guessed', id)}`,
      legit,
      401,
    );
    await attack('no token', `${base}/apsis/callback/${id}/`, legit, 404);
    await attack('token of 200 characters', `${base}/apsis/callback/${id}/${'A'.repeat(200)}`, legit, 404);
    await attack('token with characters outside base64url', `${base}/apsis/callback/${id}/abc%00def`, legit, 404);
    await attack(
      'workflow id climbing out (..%2F)',
      `${base}/apsis/callback/..%2F..%2Fetc/${callbackToken(secret, id)}`,
      legit,
      401,
    );
    await attack('GET instead of POST', real, undefined, 405, 'GET');
    await attack('body of 70 kB', real, ok(`${sim.url}/${'x'.repeat(70_000)}`), 413);
    const chunked = await postChunked(real, 70 * 1024);
    attacks.push({ attack: 'body of 70 kB, chunked (no Content-Length)', status: chunked, expected: '413' });
    assert.equal(chunked, 413);
    await attack('body that is not JSON', real, '{"code": 200, "message": ', 400);
    await attack('JSON array', real, [200, exp.dataUrl], 400);
    await attack('code as a string', real, { code: '200', message: exp.dataUrl }, 400);
    await attack('code 200 without message', real, { code: 200 }, 400);
    await attack('code 200 with a file:// URL', real, ok('file:///etc/passwd'), 400);
    await attack('code 200 with a javascript: URL', real, ok('javascript:alert(1)'), 400);
    await attack('code 200 with a foreign host', real, ok(`${spy.url}/steal`), 400);
    await attack('code 200 with another port on 127.0.0.1', real, ok(`${internal.url}/admin`), 400);
    await attack(
      'code 200 with the APSIS port under another host name',
      real,
      ok(exp.dataUrl.replace('127.0.0.1', 'localhost')),
      400,
    );
    await attack('code 200 with https on the APSIS host:port', real, ok(exp.dataUrl.replace('http:', 'https:')), 400);

    assert.equal((await signals(id)).length, 0, 'no attack became a signal');
    assert.equal((await stack.client.status(id)).execution, 'RUNNING', 'the export still waits for APSIS');

    // The genuine callback still works after all that, and completes the export with APSIS's data.
    await attack('the genuine code-200 callback', real, legit, 200);
    const manifest = await stack.client.result(id);
    assert.equal(manifest.files[0]!.sha256, sha256(JSON.stringify(profileDocument(exp))));
    assert.equal((await signals(id)).length, 1);

    // Replays for the finished export: answered (so APSIS stops), but no workflow hears them.
    const events = (await historyEvents(stack.client.temporal, id)).length;
    await attack('replay of the genuine callback after the export finished', real, legit, 200);
    await attack('replay with a foreign data URL after the export finished', real, ok(`${spy.url}/x`), 400);
    assert.equal((await historyEvents(stack.client.temporal, id)).length, events, 'the closed history is unchanged');
    assert.equal(sim.count({ vendor: 'apsis', endpoint: 'profile-data' }), 1, 'the data was fetched once');
    sim.apsis.config.omitCallback = false;
  });

  test('APSIS itself naming a foreign data host: the receiver refuses it and the export keeps waiting', async () => {
    sim.apsis.config.profileDataHost = internal.url;
    try {
      await startProfile('foreign@example.test', 'cb-foreign-host');
      await waitFor('APSIS to give up delivering the code-200 callback', () =>
        sim.apsis.callbacksSent.some(
          (c) => c.body.code === 200 && c.url.includes('cb-foreign-host') && c.attempt === 3,
        ),
      );
      const tries = sim.apsis.callbacksSent.filter((c) => c.body.code === 200 && c.url.includes('cb-foreign-host'));
      assert.deepEqual(
        tries.map((c) => c.status),
        [400, 400, 400],
      );
      assert.equal((await signals('cb-foreign-host')).length, 0);
      await stack.client.cancel('cb-foreign-host');
      await assert.rejects(
        stack.client.result('cb-foreign-host'),
        (err: ExportFailedError) => err.status === 'cancelled',
      );
    } finally {
      sim.apsis.config.profileDataHost = undefined;
    }
  });

  test('a data URL on the APSIS host that redirects to a foreign host: not followed, no token sent, clear failure', async () => {
    const key = 'redirect@example.test';
    sim.faults.add({
      vendor: 'apsis',
      endpoint: 'profile-data',
      subject: key,
      kind: 'status',
      status: 302,
      headers: { location: `${spy.url}/collect` },
      body: '',
      times: Infinity,
    });
    await startProfile(key, 'cb-redirect');
    const err = await stack.client.result('cb-redirect').then(
      () => assert.fail('the export should fail'),
      (e: unknown) => e as ExportFailedError,
    );
    assert.equal(err.type, FAILURE_TYPES.response);
    assert.match(err.message, /redirect.*not followed/);
    assert.equal((await signals('cb-redirect')).length, 1, 'the genuine callback (APSIS host) was signalled');
    assert.equal(fs.existsSync(path.join(stack.env.EXPORT_DIR!, 'cb-redirect')), false);
  });

  test('no foreign or internal host received any request, so no credential left the APSIS host', () => {
    const leaked = [...spy.requests, ...internal.requests];
    console.log(
      `foreign/internal hosts: ${leaked.length} requests, ${leaked.filter((r) => r.authorization).length} with Authorization`,
    );
    assert.deepEqual(leaked, []);
  });
});
