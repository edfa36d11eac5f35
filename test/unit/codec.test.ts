import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  AesGcmCodec,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  MissingCodecKeyError,
  PayloadDecryptError,
  parseCodecKeys,
} from '../../src/temporal/codec';
import { startCodecServer } from '../../src/temporal/codec-server';

const key = () => crypto.randomBytes(32).toString('base64');
const secret = { exportKey: 'anna.karenina@example.com', path: '/srv/exports/x/profile.json' };

describe('EXPORTFLOW_CODEC_KEYS parsing', () => {
  test('unset or blank means no encryption', () => {
    assert.deepEqual(parseCodecKeys(undefined), []);
    assert.deepEqual(parseCodecKeys('  '), []);
  });
  test('keeps the order: the first key encrypts', () => {
    const keys = parseCodecKeys(`new:${key()}, old:${key()}`);
    assert.deepEqual(
      keys.map((k) => k.id),
      ['new', 'old'],
    );
    assert.equal(keys[0]!.key.length, 32);
  });
  const bad: [string, RegExp][] = [
    ['nocolon', /entry 1: expected <keyId>:<base64/],
    [`:${key()}`, /entry 1: key id must be/],
    [`a b:${key()}`, /entry 1: key id must be/],
    [`k1:${crypto.randomBytes(16).toString('base64')}`, /must be 32 bytes .* got 16/],
    ['k1:not*base64!', /not valid base64/],
    [`k1:${key()},k1:${key()}`, /entry 2: key id "k1" appears twice/],
  ];
  for (const [text, message] of bad) {
    test(`rejects ${text.slice(0, 12)}… naming the variable, without echoing key material`, () => {
      assert.throws(
        () => parseCodecKeys(text),
        (err: Error) =>
          message.test(err.message) &&
          err.message.startsWith('EXPORTFLOW_CODEC_KEYS') &&
          !err.message.includes(text.split(':')[1]?.split(',')[0] || '\u0000'),
      );
    });
  }
});

describe('AES-256-GCM payload codec', () => {
  const payload = () => defaultPayloadConverter.toPayload(secret);

  test('encrypts the whole payload (metadata too) and decodes it back', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(`k1:${key()}`));
    const [enc] = await codec.encode([payload()]);
    assert.equal(Buffer.from(enc!.metadata!.encoding!).toString(), ENCRYPTED_ENCODING);
    assert.equal(Buffer.from(enc!.metadata![KEY_ID_METADATA]!).toString(), 'k1');
    const raw = Buffer.from(enc!.data!).toString('latin1');
    assert.ok(!raw.includes('anna.karenina') && !raw.includes('json/plain') && !raw.includes('/srv/exports'));
    const [dec] = await codec.decode([enc!]);
    assert.deepEqual(defaultPayloadConverter.fromPayload(dec!), secret);
  });

  test('two encodings of one value differ (a fresh IV each time)', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(`k1:${key()}`));
    const [a] = await codec.encode([payload()]);
    const [b] = await codec.encode([payload()]);
    assert.notDeepEqual(Buffer.from(a!.data!), Buffer.from(b!.data!));
  });

  test('rotation: payloads of the old key still decode once a new key is first', async () => {
    const oldKey = key();
    const before = new AesGcmCodec(parseCodecKeys(`old:${oldKey}`));
    const [old] = await before.encode([payload()]);
    const after = new AesGcmCodec(parseCodecKeys(`new:${key()},old:${oldKey}`));
    assert.deepEqual(defaultPayloadConverter.fromPayload((await after.decode([old!]))[0]!), secret);
    const [fresh] = await after.encode([payload()]);
    assert.equal(Buffer.from(fresh!.metadata![KEY_ID_METADATA]!).toString(), 'new');
  });

  test('a missing key id is reported (and the hook told) instead of a garbled value', async () => {
    const [enc] = await new AesGcmCodec(parseCodecKeys(`gone:${key()}`)).encode([payload()]);
    const seen: string[] = [];
    const other = new AesGcmCodec(parseCodecKeys(`k2:${key()}`), (e) => seen.push(e.keyId ?? '?'));
    await assert.rejects(
      other.decode([enc!]),
      (e: Error) => e instanceof MissingCodecKeyError && /"gone"/.test(e.message),
    );
    assert.deepEqual(seen, ['gone']);
    const none = new AesGcmCodec([]);
    await assert.rejects(none.decode([enc!]), /EXPORTFLOW_CODEC_KEYS is not set here/);
  });

  test('without keys plain payloads pass through unchanged', async () => {
    const codec = new AesGcmCodec([]);
    const p = payload();
    assert.deepEqual(await codec.encode([p]), [p]);
    assert.deepEqual(await codec.decode([p]), [p]);
  });

  test('other key material under the same id, or a flipped bit, fails authentication', async () => {
    const [enc] = await new AesGcmCodec(parseCodecKeys(`k1:${key()}`)).encode([payload()]);
    await assert.rejects(new AesGcmCodec(parseCodecKeys(`k1:${key()}`)).decode([enc!]), PayloadDecryptError);
  });
});

describe('remote codec endpoint', () => {
  test('decodes for an allowed origin with the token, and refuses without it', async () => {
    const codec = new AesGcmCodec(parseCodecKeys(`k1:${key()}`));
    const server = await startCodecServer({
      listen: '127.0.0.1:0',
      codec,
      corsOrigins: ['http://ui.test'],
      authToken: 'tok',
    });
    try {
      const [enc] = await codec.encode([defaultPayloadConverter.toPayload(secret)]);
      const body = JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(enc!.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
            ),
            data: Buffer.from(enc!.data!).toString('base64'),
          },
        ],
      });
      const headers = { 'content-type': 'application/json', origin: 'http://ui.test', 'x-namespace': 'default' };
      const denied = await fetch(`${server.url}/decode`, { method: 'POST', headers, body });
      assert.equal(denied.status, 401);
      const ok = await fetch(`${server.url}/decode`, {
        method: 'POST',
        headers: { ...headers, authorization: 'Bearer tok' },
        body,
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('access-control-allow-origin'), 'http://ui.test');
      const out = (await ok.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
      assert.equal(Buffer.from(out.payloads[0]!.metadata.encoding!, 'base64').toString(), 'json/plain');
      assert.deepEqual(JSON.parse(Buffer.from(out.payloads[0]!.data, 'base64').toString()), secret);
      const preflight = await fetch(`${server.url}/decode`, {
        method: 'OPTIONS',
        headers: { origin: 'http://evil.test', 'access-control-request-method': 'POST' },
      });
      assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    } finally {
      await server.close();
    }
  });
});
