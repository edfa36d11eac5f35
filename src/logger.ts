import pino from 'pino';

/** JSON lines on stderr. Credential-like fields are redacted should one ever be passed in. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}) {
  return pino(
    {
      level,
      base: { ...bindings },
      redact: {
        paths: ['token', 'secret', 'authorization', 'headers.authorization', '*.token', '*.secret', '*.authorization'],
        censor: '***',
      },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
export type Logger = ReturnType<typeof createLogger>;
