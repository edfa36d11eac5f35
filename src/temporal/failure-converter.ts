import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Loaded by path (the workflow sandbox needs it too) when payloads are encrypted: a failure's message and stack
 * move into a payload, so the codec encrypts them too (an error can quote a file path or a profile value).
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
