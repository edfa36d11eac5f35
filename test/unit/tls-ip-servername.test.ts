import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { makeTestPki } from '../helpers/tls-certs';

const CHILD = path.join(__dirname, '..', 'helpers', 'ip-servername-child.ts');

/**
 * Connecting over TLS to an IP address (TEMPORAL_ADDRESS=127.0.0.1:…) must not print Node's DEP0123 ("Setting
 * the TLS ServerName to an IP address is not permitted by RFC 6066") on the user's terminal. The warning is
 * printed at most once per process, so each case runs in a fresh Node process and its stderr is read.
 */
describe('TLS to an IP address', () => {
  const pki = makeTestPki();
  const run = (mode: string): { status: number | null; stderr: string; stdout: string } => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, mode], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PKI_CA: pki.caCert,
        PKI_CERT: pki.serverCert,
        PKI_KEY: pki.serverKey,
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, stderr: r.stderr, stdout: r.stdout };
  };

  test('a bare tls.connect with the IP as servername does print DEP0123 (the test can see it)', () => {
    const r = run('bare');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /DEP0123/);
  });

  test('connectTemporal and the TLS diagnosis to 127.0.0.1 print no DEP0123, and other warnings still pass', () => {
    const r = run('exportflow');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /connect: .*127\.0\.0\.1/);
    assert.doesNotMatch(r.stderr, /DEP0123|RFC 6066/);
    assert.match(r.stderr, /a warning that must still show/);
  });
});
