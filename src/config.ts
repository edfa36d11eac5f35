import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { z } from 'zod';
import { parseDuration } from './util/duration';
import { formatS3Uri, isS3Uri, parseS3Uri } from './util/s3-uri';
import { parseCodecKeys } from './temporal/codec';
import { readTemporalSettings } from './temporal/settings';
import { DEFAULT_ACCOUNT } from './shared/inputs';
import { VENDOR_NAMES, VENDORS, type Vendor } from './shared/vendors';

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
export function readConfig(rawEnv: NodeJS.ProcessEnv = process.env) {
  // `<SECRET>_FILE` (Docker/Kubernetes secrets) is read first, so everything below sees plain variables.
  const env = withSecretFiles(rawEnv);
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  const accounts = readAccounts(env);
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
    /**
     * Every vendor account the environment names, `default` (the plain variables) included when any of its
     * variables is set; resolve one with accountCredentials.
     */
    accounts,
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

// ---------------------------------------------------------------------------------------------------------------
// Named vendor accounts and secrets read from files
// ---------------------------------------------------------------------------------------------------------------

export { DEFAULT_ACCOUNT };

/**
 * Each vendor's variables, per credential field. `secret` ones may come from `<NAME>_FILE`; `fallback` is the
 * vendor's public default base URL (Altcraft has none: its panel is the customer's own host).
 */
const VENDOR_VARIABLES = {
  altcraft: {
    baseUrl: { name: 'ALTCRAFT_BASE_URL', url: true },
    token: { name: 'ALTCRAFT_TOKEN', secret: true },
  },
  apsis: {
    baseUrl: { name: 'APSIS_BASE_URL', url: true, fallback: 'https://api.apsis.one' },
    clientId: { name: 'APSIS_CLIENT_ID' },
    clientSecret: { name: 'APSIS_CLIENT_SECRET', secret: true },
  },
  mytracker: {
    baseUrl: { name: 'MYTRACKER_BASE_URL', url: true, fallback: 'https://tracker.my.com' },
    userId: { name: 'MYTRACKER_API_USER_ID' },
    secret: { name: 'MYTRACKER_API_SECRET', secret: true },
  },
} as const satisfies Record<
  Vendor,
  Record<string, { name: string; secret?: boolean; url?: boolean; fallback?: string }>
>;

type VariableSpec = { name: string; secret?: boolean; url?: boolean; fallback?: string };

/** Secrets that may be given as `<NAME>_FILE` (also with an account suffix: `ALTCRAFT_TOKEN__EU_FILE`). */
export const SECRET_VARIABLES = [
  'ALTCRAFT_TOKEN',
  'APSIS_CLIENT_SECRET',
  'MYTRACKER_API_SECRET',
  'CALLBACK_SECRET',
  'TEMPORAL_API_KEY',
  'EXPORTFLOW_CODEC_KEYS',
  'EXPORTFLOW_CODEC_AUTH_TOKEN',
] as const;

/** An account name as callers write it (`--account eu`); compared and stored lower-case. */
export const ACCOUNT_NAME = /^[A-Za-z0-9_]{1,64}$/;
/** The suffix a named account's variables carry: `__` and the name upper-cased. */
export function accountSuffix(account: string): string {
  return account === DEFAULT_ACCOUNT ? '' : `__${account.toUpperCase()}`;
}
/** The variable that holds `base` for `account`, e.g. ALTCRAFT_TOKEN + eu -> ALTCRAFT_TOKEN__EU. */
export function accountVariable(base: string, account: string): string {
  return `${base}${accountSuffix(account)}`;
}

const SECRET_WITH_SUFFIX = new RegExp(`^(${SECRET_VARIABLES.join('|')})(__[A-Za-z0-9_]+?)?_FILE$`);

/**
 * Returns the environment with every `<SECRET>[__<NAME>]_FILE` replaced by the file's content (one trailing
 * newline trimmed, as `echo` and most secret stores leave one). Setting both forms of one secret is an error, as is
 * a file that cannot be read; the message names the variable, never the content.
 */
export function withSecretFiles(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  const problems: string[] = [];
  for (const [key, file] of Object.entries(env)) {
    const m = SECRET_WITH_SUFFIX.exec(key);
    if (!m || file === undefined || file.trim() === '') continue;
    const target = key.slice(0, -'_FILE'.length);
    if (env[target] !== undefined && env[target]!.trim() !== '') {
      problems.push(`${key}: set either ${target} or ${key}, not both`);
      continue;
    }
    try {
      out[target] = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push(`${key}: cannot read the file it names (${code ?? (err as Error).message})`);
      continue;
    }
    if (out[target]!.trim() === '') problems.push(`${key}: the file it names is empty`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return out;
}

export interface AltcraftAccount {
  baseUrl?: string;
  token?: string;
}
export interface ApsisAccount {
  baseUrl: string;
  clientId?: string;
  clientSecret?: string;
}
export interface MyTrackerAccount {
  baseUrl: string;
  userId?: string;
  secret?: string;
}
export interface VendorAccounts {
  altcraft: Record<string, AltcraftAccount>;
  apsis: Record<string, ApsisAccount>;
  mytracker: Record<string, MyTrackerAccount>;
}

const ACCOUNT_VARIABLE = new RegExp(
  `^(${Object.values(VENDOR_VARIABLES)
    .flatMap((fields) => Object.values(fields).map((f: VariableSpec) => f.name))
    .join('|')})__(.*)$`,
);

/** The account name in a variable's suffix; upper-case letters, digits and `_` (the CONTRACT's form). */
const AccountSuffixSchema = z
  .string()
  .regex(/^[A-Z0-9][A-Z0-9_]{0,63}$/, 'the account name after __ is upper-case letters, digits and _ (e.g. __EU)')
  .refine((name) => name !== 'DEFAULT', 'the account "default" uses the plain variables, without a suffix');

/**
 * The account names the environment mentions through each vendor's credential variables: every `<VAR>__<NAME>`
 * (a secret also as `<VAR>__<NAME>_FILE`, before or after the files are read), lower-cased, and `default` when
 * one of the vendor's own plain variables is set. A suffix that breaks the naming rule is a problem, named with
 * its variable. The one place accounts are discovered: credentials (readAccounts) and quotas (src/quota) use it.
 */
export function accountNamesIn(env: NodeJS.ProcessEnv): { names: Record<Vendor, Set<string>>; problems: string[] } {
  const names: Record<Vendor, Set<string>> = { altcraft: new Set(), apsis: new Set(), mytracker: new Set() };
  const problems: string[] = [];
  for (const key of Object.keys(env)) {
    if (env[key] === undefined || env[key]!.trim() === '') continue;
    const file = SECRET_WITH_SUFFIX.exec(key);
    // `<SECRET>__<NAME>_FILE` names the account of `<SECRET>__<NAME>`; `<SECRET>_FILE` is the default's.
    const variable = file ? `${file[1]}${file[2] ?? ''}` : key;
    const m = ACCOUNT_VARIABLE.exec(variable);
    if (!m) {
      if (file && !file[2]) addPlain(file[1]!);
      continue;
    }
    const checked = AccountSuffixSchema.safeParse(m[2]);
    if (!checked.success) {
      problems.push(`${key}: ${checked.error.issues[0]!.message}`);
      continue;
    }
    names[vendorOfVariable(m[1]!)].add(checked.data.toLowerCase());
  }
  for (const vendor of VENDORS) {
    const plain = Object.values(VENDOR_VARIABLES[vendor]).some(
      (f: VariableSpec) => !f.fallback && (env[f.name] ?? '').trim() !== '',
    );
    if (plain) names[vendor].add(DEFAULT_ACCOUNT);
  }
  return { names, problems };

  function addPlain(variable: string): void {
    const vendor = VENDORS.find((v) =>
      Object.values(VENDOR_VARIABLES[v]).some((f: VariableSpec) => f.name === variable),
    );
    if (vendor) names[vendor].add(DEFAULT_ACCOUNT);
  }
}

function vendorOfVariable(variable: string): Vendor {
  return VENDORS.find((v) => Object.values(VENDOR_VARIABLES[v]).some((f: VariableSpec) => f.name === variable))!;
}

/**
 * Finds every account the environment names, per vendor, from `<VAR>__<NAME>` (and the plain variables for
 * `default`), and validates their values. Base URLs of a named account never fall back to the default account's:
 * a token must not reach another account's panel by a missing line.
 */
export function readAccounts(env: NodeJS.ProcessEnv): VendorAccounts {
  const { names, problems } = accountNamesIn(env);
  const read = (vendor: Vendor, account: string): Record<string, string | undefined> => {
    const out: Record<string, string | undefined> = {};
    for (const [field, spec] of Object.entries(VENDOR_VARIABLES[vendor]) as [string, VariableSpec][]) {
      const name = accountVariable(spec.name, account);
      const raw = (env[name] ?? '').trim();
      let value: string | undefined = raw === '' ? spec.fallback : spec.secret ? env[name] : raw;
      if (value !== undefined && spec.url) {
        value = value.replace(/\/+$/, '');
        if (!z.url().safeParse(value).success || !/^https?:\/\//i.test(value)) {
          problems.push(`${name}: must be an http(s) URL`);
          value = undefined;
        }
      }
      out[field] = value;
    }
    return out;
  };
  const accounts: VendorAccounts = { altcraft: {}, apsis: {}, mytracker: {} };
  for (const vendor of VENDORS) {
    // The default account is always there (its base URLs have defaults; its missing secrets are named on use).
    for (const account of [DEFAULT_ACCOUNT, ...[...names[vendor]].filter((n) => n !== DEFAULT_ACCOUNT).sort()]) {
      (accounts[vendor] as Record<string, unknown>)[account] = read(vendor, account);
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return accounts;
}

/** The account names the environment gives credentials for, per vendor (`default` only when its variables are set). */
export function configuredAccounts(config: Pick<Config, 'accounts'>, vendor: Vendor): string[] {
  return Object.keys(config.accounts[vendor]).filter(
    (account) => account !== DEFAULT_ACCOUNT || missingVariables(config, vendor, account).length === 0,
  );
}

/**
 * The account names the environment mentions for a vendor, complete or not: `default` when any of its own
 * variables is set (a vendor-wide default base URL alone does not count), and every `__<NAME>` seen.
 */
export function knownAccounts(config: Pick<Config, 'accounts'>, vendor: Vendor): string[] {
  const required = Object.values(VENDOR_VARIABLES[vendor]).filter((s: VariableSpec) => !s.fallback).length;
  return Object.keys(config.accounts[vendor]).filter(
    (account) => account !== DEFAULT_ACCOUNT || missingVariables(config, vendor, account).length < required,
  );
}

/** The variables `account` still lacks for `vendor`, secrets first (an account nobody configured lacks all). */
export function missingVariables(config: Pick<Config, 'accounts'>, vendor: Vendor, account: string): string[] {
  const values = (config.accounts[vendor] as Record<string, Record<string, string | undefined>>)[account];
  const specs = Object.entries(VENDOR_VARIABLES[vendor]) as [string, VariableSpec][];
  const ordered = [...specs.filter(([, s]) => s.secret), ...specs.filter(([, s]) => !s.secret)];
  return ordered.filter(([field]) => values?.[field] === undefined).map(([, s]) => accountVariable(s.name, account));
}

export type AccountCredentials = {
  altcraft: Required<AltcraftAccount>;
  apsis: Required<ApsisAccount>;
  mytracker: Required<MyTrackerAccount>;
};

/** An account the worker has no (complete) credentials for; `variable` is the first one missing. */
export class MissingCredentialError extends Error {
  override name = 'MissingCredentialError';
  constructor(
    readonly vendor: Vendor,
    readonly account: string,
    readonly variables: string[],
  ) {
    const [first, ...rest] = variables;
    super(
      `${first} is not set in the worker's environment${rest.length > 0 ? ` (nor ${rest.join(', ')})` : ''}, ` +
        `so the worker cannot call ${VENDOR_NAMES[vendor]}` +
        (account === DEFAULT_ACCOUNT ? '' : ` for account "${account}"`),
    );
  }
}

/**
 * The one way to get a vendor account's credentials: throws MissingCredentialError naming the variable when the
 * worker lacks them. `account` is a name as it travels in workflow input (absent = default).
 */
export function accountCredentials<V extends Vendor>(
  config: Pick<Config, 'accounts'>,
  vendor: V,
  account: string | undefined,
): AccountCredentials[V] {
  const name = (account ?? DEFAULT_ACCOUNT).toLowerCase();
  const missing = missingVariables(config, vendor, name);
  if (missing.length > 0) throw new MissingCredentialError(vendor, name, missing);
  return (config.accounts[vendor] as Record<string, AccountCredentials[V]>)[name]!;
}
