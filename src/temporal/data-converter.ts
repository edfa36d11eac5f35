import type { DataConverter } from '@temporalio/common';
import { AesGcmCodec, type CodecKey, type MissingCodecKeyError } from './codec';

/**
 * The one data converter the client, worker, callback receiver and schedules use: the AES-GCM codec (a pass-through
 * that still recognises encrypted payloads when no key is set) and, with keys, failure messages encoded too.
 */
export function exportflowDataConverter(
  keys: CodecKey[],
  onMissingKey?: (err: MissingCodecKeyError) => void,
): DataConverter {
  return {
    payloadCodecs: [new AesGcmCodec(keys, onMissingKey)],
    ...(keys.length > 0 ? { failureConverterPath: require.resolve('./failure-converter') } : {}),
  };
}
