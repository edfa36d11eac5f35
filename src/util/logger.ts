import pino from 'pino';
import pinoPretty from 'pino-pretty';

/** `LOG_FORMAT`: json lines, readable (pretty) lines, or auto: readable when stderr is a terminal. */
export type LogFormat = 'auto' | 'json' | 'pretty';

/** The format a logger writes in: auto becomes pretty on a terminal (a person reads it), JSON otherwise. */
export function resolveLogFormat(format: LogFormat, stderrIsTty = process.stderr.isTTY === true): 'json' | 'pretty' {
  if (format === 'auto') return stderrIsTty ? 'pretty' : 'json';
  return format;
}

/**
 * Logs on stderr: JSON lines (for collectors, and whenever stderr is not a terminal), or readable lines through
 * pino-pretty on a terminal. Credential-like fields are redacted should one ever be passed in; redaction happens
 * before either format is written.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}, format: LogFormat = 'json') {
  const options = {
    level,
    base: { ...bindings },
    redact: {
      paths: ['token', 'secret', 'authorization', 'headers.authorization', '*.token', '*.secret', '*.authorization'],
      censor: '***',
    },
  };
  if (resolveLogFormat(format) === 'pretty') {
    // In this thread and synchronous: no transport worker, and nothing lost when the process exits right after.
    return pino(
      options,
      pinoPretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, ignore: 'pid,hostname' }),
    );
  }
  return pino(options, pino.destination({ fd: 2, sync: false }));
}
export type Logger = ReturnType<typeof createLogger>;
