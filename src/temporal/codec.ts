import crypto from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/** Payload metadata `encoding` of an encrypted payload; its data is iv (12) + ciphertext + GCM tag (16). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Payload metadata naming the key that encrypted it (plaintext: needed to pick the key, reveals nothing). */
export const KEY_ID_METADATA = 'encryption-key-id';
export const CODEC_KEYS_VARIABLE = 'EXPORTFLOW_CODEC_KEYS';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** A payload names a key this process does not hold: the caller must stop rather than fail task after task. */
export class MissingCodecKeyError extends Error {
  override name = 'MissingCodecKeyError';
  constructor(readonly keyId: string | undefined) {
    super(
      keyId === undefined
        ? `a payload is encrypted but ${CODEC_KEYS_VARIABLE} is not set here; set it to the keys the other processes use`
        : `a payload is encrypted with key id "${keyId}", which ${CODEC_KEYS_VARIABLE} here does not hold; add that key (rotation keeps old keys after the new first one)`,
    );
  }
}

/** A payload that does not decrypt with the key its id names (wrong key material under that id, or tampering). */
export class PayloadDecryptError extends Error {
  override name = 'PayloadDecryptError';
}

/** Parses `<keyId>:<base64 of 32 bytes>,...`; throws naming EXPORTFLOW_CODEC_KEYS (never echoing key material). */
export function parseCodecKeys(text: string | undefined): CodecKey[] {
  if (text === undefined || text.trim() === '') return [];
  const keys: CodecKey[] = [];
  const parts = text.split(',').map((p) => p.trim());
  parts.forEach((part, index) => {
    const where = `${CODEC_KEYS_VARIABLE}: entry ${index + 1}`;
    const colon = part.indexOf(':');
    if (colon < 0) throw new Error(`${where}: expected <keyId>:<base64 of 32 random bytes>`);
    const id = part.slice(0, colon);
    const material = part.slice(colon + 1);
    if (!KEY_ID.test(id)) throw new Error(`${where}: key id must be 1-64 letters, digits, dot, dash or underscore`);
    if (keys.some((k) => k.id === id)) throw new Error(`${where}: key id "${id}" appears twice`);
    const key = Buffer.from(material, 'base64');
    // Buffer.from ignores bad characters; the round trip makes a typo an error instead of a different key.
    if (key.toString('base64').replace(/=+$/, '') !== material.replace(/=+$/, '')) {
      throw new Error(`${where} ("${id}"): the key is not valid base64`);
    }
    if (key.length !== 32) {
      throw new Error(
        `${where} ("${id}"): the key must be 32 bytes (AES-256), got ${key.length}; make one with \`openssl rand -base64 32\``,
      );
    }
    keys.push({ id, key });
  });
  return keys;
}

/**
 * AES-256-GCM over each whole payload (its metadata and data), so not even the encoding name stays readable.
 * The first key encrypts; every key decrypts, picked by the id in the payload's metadata. With no keys, payloads
 * pass through unchanged, and an encrypted one is reported as MissingCodecKeyError.
 */
export class AesGcmCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  constructor(
    readonly keys: CodecKey[],
    private readonly onMissingKey: (err: MissingCodecKeyError) => void = () => undefined,
  ) {
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const current = this.keys[0];
    if (!current) return payloads;
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const iv = crypto.randomBytes(IV_BYTES);
      const cipher = crypto.createCipheriv('aes-256-gcm', current.key, iv);
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: Buffer.from(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: Buffer.from(current.id),
        },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding;
      if (!encoding || Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING) return payload;
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      const keyId = idBytes ? Buffer.from(idBytes).toString() : undefined;
      const key = keyId === undefined ? undefined : this.byId.get(keyId);
      if (!key) {
        const err = new MissingCodecKeyError(this.keys.length === 0 ? undefined : keyId);
        this.onMissingKey(err);
        throw err;
      }
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES)
        throw new PayloadDecryptError(`encrypted payload too short (key "${keyId}")`);
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new PayloadDecryptError(
          `a payload does not decrypt with key "${keyId}" of ${CODEC_KEYS_VARIABLE} (different key material under that id?)`,
        );
      }
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}
