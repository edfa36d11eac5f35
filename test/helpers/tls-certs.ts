import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './processes';

export interface TestPki {
  dir: string;
  /** The CA that signs the front's server certificate and the good client certificates. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Signed by the test CA, but its validity ended before it began (expired for any check). */
  expiredCert: string;
  expiredKey: string;
  /** Another CA and a client certificate it signed: trusted by nobody here. */
  rogueCaCert: string;
  rogueClientCert: string;
  rogueClientKey: string;
}

const OPENSSL = process.env.OPENSSL_PATH ?? '/usr/bin/openssl';

/** A fresh CA and certificates for one test run, made with the `openssl` CLI (Debian package openssl). */
export function makeTestPki(): TestPki {
  const dir = tempDir('pki');
  const p = (name: string) => path.join(dir, name);
  const run = (...args: string[]) => execFileSync(OPENSSL, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const ca = (name: string) =>
    run(
      'req',
      '-x509',
      ...key,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=exportflow test ${name}`,
    );
  const leaf = (name: string, signer: string, ext: string, days: string) => {
    fs.writeFileSync(p(`${name}.ext`), `${ext}\n`);
    run('req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=exportflow ${name}`);
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${signer}.pem`,
      '-CAkey',
      `${signer}.key`,
      '-days',
      days,
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  };
  ca('ca');
  ca('rogue-ca');
  leaf('server', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth', '2');
  leaf('client', 'ca', 'extendedKeyUsage=clientAuth', '2');
  leaf('expired', 'ca', 'extendedKeyUsage=clientAuth', '-1');
  leaf('rogue-client', 'rogue-ca', 'extendedKeyUsage=clientAuth', '2');
  return {
    dir,
    caCert: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    expiredCert: p('expired.pem'),
    expiredKey: p('expired.key'),
    rogueCaCert: p('rogue-ca.pem'),
    rogueClientCert: p('rogue-client.pem'),
    rogueClientKey: p('rogue-client.key'),
  };
}
