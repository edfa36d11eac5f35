import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { z } from 'zod';
import { parseDuration } from './util/duration';
import { formatS3Uri, isS3Uri, parseS3Uri } from './util/s3-uri';
import { parseCodecKeys } from './temporal/codec';
import { readTemporalSettings } from './temporal/settings';

/** Environment variables (docs/configuration.md), read once and validated; a `.env` in the working directory is read too. */
let dotenvLoaded = false;
export function loadDotenv(cwd = process.cwd()): void {
  if (dotenvLoaded) return;
  dotenvLoaded = true;
  const file = path.join(cwd, '.env');
  if (fs.existsSync(file)) process.loadEnvFile(file);
}

const duration = (name: string, fallback: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      try {
        return parseDuration(value && value.trim() !== '' ? value : fallback);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `${name}: ${(err as Error).message}` });
        return z.NEVER;
      }
    });

const hostPort = (name: string) =>
  z.string().regex(/^[^\s:]+:\d{1,5}$/, `${name} must be host:port, e.g. 127.0.0.1:8787`);

const optionalUrl = (name: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v && v.trim() !== '' ? v.trim().replace(/\/+$/, '') : undefined))
    .pipe(z.url({ message: `${name} must be an http(s) URL` }).optional());

const blankToUndefined = z
  .string()
  .optional()
  .transform((v) => (v && v.trim() !== '' ? v : undefined));

const EnvSchema = z.object({
  // TEMPORAL_* (address, namespace, TLS, API key, profiles) are read by readTemporalSettings, as the CLI reads them.
  EXPORTFLOW_TASK_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'EXPORTFLOW_TASK_QUEUE may hold letters, digits, dot, dash and underscore')
    .default('exportflow'),
  EXPORT_DIR: z
    .string()
    .min(1)
    .default('./exports')
    .refine(
      (v) => !isS3Uri(v) || parseS3Uri(v) !== undefined,
      'EXPORT_DIR must be a directory or s3://<bucket>[/<prefix>]',
    ),
  ALTCRAFT_BASE_URL: optionalUrl('ALTCRAFT_BASE_URL'),
  ALTCRAFT_TOKEN: blankToUndefined,
  APSIS_BASE_URL: optionalUrl('APSIS_BASE_URL').transform((v) => v ?? 'https://api.apsis.one'),
  APSIS_CLIENT_ID: blankToUndefined,
  APSIS_CLIENT_SECRET: blankToUndefined,
  CALLBACK_LISTEN: z.string().default('127.0.0.1:8787').pipe(hostPort('CALLBACK_LISTEN')),
  CALLBACK_PUBLIC_URL: optionalUrl('CALLBACK_PUBLIC_URL'),
  CALLBACK_SECRET: blankToUndefined,
  MYTRACKER_BASE_URL: optionalUrl('MYTRACKER_BASE_URL').transform((v) => v ?? 'https://tracker.my.com'),
  MYTRACKER_API_USER_ID: blankToUndefined,
  MYTRACKER_API_SECRET: blankToUndefined,
  EXPORTFLOW_POLL_INITIAL: duration('EXPORTFLOW_POLL_INITIAL', '5s'),
  EXPORTFLOW_POLL_MAX: duration('EXPORTFLOW_POLL_MAX', '5m'),
  EXPORTFLOW_MAX_WAIT: duration('EXPORTFLOW_MAX_WAIT', '24h'),
  EXPORTFLOW_HEARTBEAT_TIMEOUT: duration('EXPORTFLOW_HEARTBEAT_TIMEOUT', '30s'),
  // Longer than the longest vendor call (an activity's 2 min start-to-close timeout), so a create call that began
  // just before SIGTERM still ends on this worker; see src/worker/shutdown.ts.
  EXPORTFLOW_SHUTDOWN_GRACE: duration('EXPORTFLOW_SHUTDOWN_GRACE', '150s'),
  EXPORTFLOW_DEPLOYMENT_NAME: blankToUndefined.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'EXPORTFLOW_DEPLOYMENT_NAME may hold letters, digits, dash and underscore')
      .optional(),
  ),
  EXPORTFLOW_BUILD_ID: blankToUndefined.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9._+-]{1,200}$/, 'EXPORTFLOW_BUILD_ID may hold letters, digits, dot, plus, dash, underscore')
      .optional(),
  ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  METRICS_LISTEN: z
    .string()
    .optional()
    .transform((v) => (v && v.trim() !== '' ? v : undefined))
    .pipe(hostPort('METRICS_LISTEN').optional()),
  EXPORTFLOW_DATA_DIR: z.string().min(1).default('./.data'),
  EXPORTFLOW_WORKFLOW_BUNDLE_DIR: blankToUndefined,
  EXPORTFLOW_CODEC_LISTEN: z.string().default('127.0.0.1:8888').pipe(hostPort('EXPORTFLOW_CODEC_LISTEN')),
  EXPORTFLOW_CODEC_CORS_ORIGINS: z
    .string()
    .optional()
    .transform((v) =>
      v && v.trim() !== ''
        ? v
            .split(',')
            .map((o) => o.trim().replace(/\/+$/, ''))
            .filter(Boolean)
        : undefined,
    ),
  EXPORTFLOW_CODEC_AUTH_TOKEN: blankToUndefined.pipe(
    z.string().regex(/^\S+$/, 'EXPORTFLOW_CODEC_AUTH_TOKEN must not contain whitespace').optional(),
  ),
  EXPORTFLOW_DOWNLOAD_CONNECTIONS: z
    .string()
    .optional()
    .transform((v) => (v && v.trim() !== '' ? v.trim() : '4'))
    .pipe(
      z
        .string()
        .regex(/^\d+$/, 'EXPORTFLOW_DOWNLOAD_CONNECTIONS must be a whole number from 1 to 16 (1 = one connection)')
        .transform(Number)
        .pipe(
          z
            .number()
            .int()
            .min(1, 'EXPORTFLOW_DOWNLOAD_CONNECTIONS must be at least 1 (1 = one connection)')
            .max(16, 'EXPORTFLOW_DOWNLOAD_CONNECTIONS must be at most 16'),
        ),
    ),
});

export type Config = ReturnType<typeof readConfig>;

/** A configuration problem found before anything starts; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment; throws ConfigError naming each bad variable. */
export function readConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  let temporal: ReturnType<typeof readTemporalSettings>;
  let codecKeys: ReturnType<typeof parseCodecKeys>;
  try {
    temporal = readTemporalSettings(env);
    codecKeys = parseCodecKeys(env.EXPORTFLOW_CODEC_KEYS);
  } catch (err) {
    throw new ConfigError(`invalid configuration: ${(err as Error).message}`);
  }
  if (e.EXPORTFLOW_BUILD_ID && !e.EXPORTFLOW_DEPLOYMENT_NAME) {
    throw new ConfigError(
      'invalid configuration: EXPORTFLOW_BUILD_ID is set but EXPORTFLOW_DEPLOYMENT_NAME is not (Worker Versioning needs both, or neither)',
    );
  }
  if (e.EXPORTFLOW_POLL_INITIAL > e.EXPORTFLOW_POLL_MAX) {
    throw new ConfigError('invalid configuration: EXPORTFLOW_POLL_INITIAL must not exceed EXPORTFLOW_POLL_MAX');
  }
  return {
    temporal,
    /** Payload encryption keys (EXPORTFLOW_CODEC_KEYS); empty = payloads stored as plain JSON. */
    codecKeys,
    taskQueue: e.EXPORTFLOW_TASK_QUEUE,
    // An s3:// EXPORT_DIR is a bucket and key prefix (AWS_* variables say where and as whom), not a local path.
    exportDir: isS3Uri(e.EXPORT_DIR) ? formatS3Uri(parseS3Uri(e.EXPORT_DIR)!) : path.resolve(e.EXPORT_DIR),
    dataDir: path.resolve(e.EXPORTFLOW_DATA_DIR),
    altcraft: { baseUrl: e.ALTCRAFT_BASE_URL, token: e.ALTCRAFT_TOKEN },
    apsis: { baseUrl: e.APSIS_BASE_URL, clientId: e.APSIS_CLIENT_ID, clientSecret: e.APSIS_CLIENT_SECRET },
    mytracker: { baseUrl: e.MYTRACKER_BASE_URL, userId: e.MYTRACKER_API_USER_ID, secret: e.MYTRACKER_API_SECRET },
    callbacks: {
      listen: e.CALLBACK_LISTEN,
      publicUrl: e.CALLBACK_PUBLIC_URL ?? `http://${e.CALLBACK_LISTEN}`,
      secret: e.CALLBACK_SECRET,
    },
    timing: {
      pollInitialMs: e.EXPORTFLOW_POLL_INITIAL,
      pollMaxMs: e.EXPORTFLOW_POLL_MAX,
      maxWaitMs: e.EXPORTFLOW_MAX_WAIT,
      heartbeatTimeoutMs: e.EXPORTFLOW_HEARTBEAT_TIMEOUT,
    },
    codecServer: {
      listen: e.EXPORTFLOW_CODEC_LISTEN,
      corsOrigins: e.EXPORTFLOW_CODEC_CORS_ORIGINS,
      authToken: e.EXPORTFLOW_CODEC_AUTH_TOKEN,
    },
    /** Concurrent ranges per large file when the server allows it; 1 = one connection. */
    downloads: { connections: e.EXPORTFLOW_DOWNLOAD_CONNECTIONS },
    /** How long a stopping worker lets activities in flight finish (EXPORTFLOW_SHUTDOWN_GRACE). */
    shutdownGraceMs: e.EXPORTFLOW_SHUTDOWN_GRACE,
    /** Worker Versioning: on when deploymentName is set; buildId undefined = derived from the workflow code. */
    versioning: { deploymentName: e.EXPORTFLOW_DEPLOYMENT_NAME, buildId: e.EXPORTFLOW_BUILD_ID },
    logLevel: e.LOG_LEVEL,
    /** auto: readable lines when stderr is a terminal, JSON lines otherwise. */
    logFormat: e.LOG_FORMAT,
    metricsListen: e.METRICS_LISTEN,
    /** A directory of prebuilt workflow bundles (scripts/bundle-workflows.ts) to load instead of the default. */
    workflowBundleDir: e.EXPORTFLOW_WORKFLOW_BUNDLE_DIR ? path.resolve(e.EXPORTFLOW_WORKFLOW_BUNDLE_DIR) : undefined,
  };
}

/** The callback HMAC key: CALLBACK_SECRET, or one generated once and kept in `<dataDir>/callback-secret`. */
export function callbackSecret(config: Config): string {
  if (config.callbacks.secret) return config.callbacks.secret;
  const file = path.join(config.dataDir, 'callback-secret');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(config.dataDir, { recursive: true });
    const secret = crypto.randomBytes(32).toString('base64url');
    // wx: two processes starting at once must end up with one secret, not two.
    try {
      fs.writeFileSync(file, secret, { flag: 'wx', mode: 0o600 });
      return secret;
    } catch {
      return fs.readFileSync(file, 'utf8').trim();
    }
  }
}
