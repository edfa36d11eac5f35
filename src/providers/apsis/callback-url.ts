import crypto from 'node:crypto';

/**
 * Per-export callback URLs: `<CALLBACK_PUBLIC_URL>/apsis/callback/<workflowId>/<token>`, where the token is an
 * HMAC of the workflow id under the callback secret. Any receiver holding the secret can verify a callback
 * without state, so several receivers can stand behind one public URL.
 */
export const CALLBACK_PATH = '/apsis/callback/';

/** The unguessable token for one export's callback URL. */
export function callbackToken(secret: string, workflowId: string): string {
  return crypto.createHmac('sha256', secret).update(`apsis-callback\n${workflowId}`).digest('base64url');
}

/** Compares in constant time, so response timing tells a forger nothing about the right token. */
export function verifyCallbackToken(secret: string, workflowId: string, token: string): boolean {
  const expected = Buffer.from(callbackToken(secret, workflowId));
  const given = Buffer.from(token);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

/** The URL APSIS is told to call for the export run by `workflowId`. */
export function callbackUrlFor(publicUrl: string, secret: string, workflowId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}${CALLBACK_PATH}${encodeURIComponent(workflowId)}/${callbackToken(secret, workflowId)}`;
}

/**
 * Reads workflow id and token from a callback path. Only the path's end is matched, so a reverse proxy may
 * forward it with or without a prefix of its own.
 */
export function parseCallbackPath(pathname: string): { workflowId: string; token: string } | undefined {
  const match = /\/apsis\/callback\/([^/]{1,600})\/([A-Za-z0-9_-]{1,100})\/?$/.exec(pathname);
  if (!match) return undefined;
  try {
    const workflowId = decodeURIComponent(match[1]!);
    return workflowId === '' ? undefined : { workflowId, token: match[2]! };
  } catch {
    return undefined;
  }
}
