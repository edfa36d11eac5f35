import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { ConfigError, readConfig } from '../../src/config';
import { readTemporalSettings, TemporalSettingsError } from '../../src/temporal/settings';
import { makeTestPki, type TestPki } from '../helpers/tls-certs';

let pki: TestPki;
before(() => {
  pki = makeTestPki();
});

const rejects = (env: Record<string, string>, message: RegExp) =>
  assert.throws(
    () => readTemporalSettings(env),
    (err: Error) => err instanceof TemporalSettingsError && message.test(err.message),
  );

describe('Temporal connection settings (environment configuration, as the temporal CLI reads it)', () => {
  test('no settings: plaintext to 127.0.0.1:7233, namespace default (CONTRACT.md)', () => {
    const s = readTemporalSettings({});
    assert.equal(s.address, '127.0.0.1:7233');
    assert.equal(s.namespace, 'default');
    assert.equal(s.tls, undefined);
    assert.equal(s.apiKey, undefined);
  });

  test('TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE still work; blank means unset', () => {
    const s = readTemporalSettings({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: 'exports' });
    assert.equal(s.address, 'temporal.internal:7233');
    assert.equal(s.namespace, 'exports');
    assert.equal(readTemporalSettings({ TEMPORAL_API_KEY: '', TEMPORAL_TLS: ' ' }).tls, undefined);
  });

  test('an API key turns TLS on (system roots), as the SDK does for Temporal Cloud', () => {
    const s = readTemporalSettings({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'abc.def' });
    assert.equal(s.apiKey, 'abc.def');
    assert.equal(s.tls, true);
  });

  test('a TOML profile is read, and TEMPORAL_* variables override its fields', () => {
    const file = path.join(pki.dir, 'temporal.toml');
    fs.writeFileSync(
      file,
      [
        '[profile.prod]',
        'address = "prod.example:7233"',
        'namespace = "prod-ns"',
        '[profile.prod.tls]',
        `client_cert_path = "${pki.clientCert}"`,
        `client_key_path = "${pki.clientKey}"`,
        `server_ca_cert_path = "${pki.caCert}"`,
        'server_name = "temporal.example"',
        '[profile.bad]',
        'api_key = "two words"',
      ].join('\n'),
    );
    const s = readTemporalSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
    assert.equal(s.address, 'prod.example:7233');
    assert.equal(s.namespace, 'prod-ns');
    assert.ok(typeof s.tls === 'object' && s.tls.clientCertPair && s.tls.serverRootCACertificate);
    assert.equal(typeof s.tls === 'object' && s.tls.serverNameOverride, 'temporal.example');
    const over = readTemporalSettings({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_ADDRESS: '127.0.0.1:9999',
    });
    assert.equal(over.address, '127.0.0.1:9999');
    rejects({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'bad' }, /^profile\.bad\.api_key in .*whitespace/);
    rejects({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'nope' }, /^TEMPORAL_PROFILE: no profile "nope"/);
    rejects({ TEMPORAL_CONFIG_FILE: path.join(pki.dir, 'missing.toml') }, /^TEMPORAL_CONFIG_FILE: no such file/);
  });

  test('certificates can be given inline with the _DATA variables', () => {
    const s = readTemporalSettings({
      TEMPORAL_TLS_CLIENT_CERT_DATA: fs.readFileSync(pki.clientCert, 'utf8'),
      TEMPORAL_TLS_CLIENT_KEY_DATA: fs.readFileSync(pki.clientKey, 'utf8'),
      TEMPORAL_TLS_SERVER_CA_CERT_DATA: fs.readFileSync(pki.caCert, 'utf8'),
    });
    assert.ok(typeof s.tls === 'object' && s.tls.clientCertPair);
  });

  const badCases: [string, () => Record<string, string>, RegExp][] = [
    ['an API key with whitespace', () => ({ TEMPORAL_API_KEY: 'abc\n' }), /^TEMPORAL_API_KEY: .*whitespace/],
    ['TEMPORAL_TLS=yes', () => ({ TEMPORAL_TLS: 'yes' }), /^TEMPORAL_TLS: expected true or false/],
    [
      'a missing certificate file',
      () => ({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/c.pem', TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey }),
      /^TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read \/nonexistent\/c\.pem \(no such file\)/,
    ],
    [
      'a key that does not match the certificate',
      () => ({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: pki.rogueClientKey }),
      /^TEMPORAL_TLS_CLIENT_KEY_PATH: the key does not match the certificate in TEMPORAL_TLS_CLIENT_CERT_PATH/,
    ],
    [
      'an expired client certificate',
      () => ({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.expiredCert, TEMPORAL_TLS_CLIENT_KEY_PATH: pki.expiredKey }),
      /^TEMPORAL_TLS_CLIENT_CERT_PATH: the client certificate expired on/,
    ],
    [
      'a certificate without its key',
      () => ({ TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert }),
      /^profile\.default\.tls\.client_key_path \(or TEMPORAL_TLS_CLIENT_KEY_PATH\): a client certificate needs its private key/,
    ],
    [
      'a CA file that is not a certificate',
      () => ({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.clientKey }),
      /^TEMPORAL_TLS_SERVER_CA_CERT_PATH: not a PEM certificate/,
    ],
    ['a bad address', () => ({ TEMPORAL_ADDRESS: 'no port' }), /^TEMPORAL_ADDRESS must be host:port/],
    [
      'host verification off (the TypeScript SDK cannot)',
      () => ({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }),
      /TEMPORAL_TLS_SERVER_NAME/,
    ],
  ];
  for (const [what, env, message] of badCases) {
    test(`rejects ${what}, naming the variable`, () => rejects(env(), message));
  }

  test('readConfig reports bad Temporal and codec settings as ConfigError (CLI exit 2)', () => {
    assert.throws(() => readConfig({ TEMPORAL_API_KEY: 'a b' }), ConfigError);
    assert.throws(
      () => readConfig({ EXPORTFLOW_CODEC_KEYS: 'k1:short' }),
      (e: Error) => e instanceof ConfigError && /EXPORTFLOW_CODEC_KEYS/.test(e.message),
    );
  });
});
