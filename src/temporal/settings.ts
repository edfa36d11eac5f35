import crypto from 'node:crypto';
import fs from 'node:fs';
import { loadClientConfigProfile, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';

/** A bad Temporal connection setting; the message names the variable or profile field. */
export class TemporalSettingsError extends Error {
  override name = 'TemporalSettingsError';
}

/** How to reach Temporal: what the `temporal` CLI would use with the same environment and config file. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  /** undefined = plaintext; true = TLS with the system's roots; an object = CA, client pair, server name. */
  tls: TLSConfig | boolean | undefined;
  apiKey: string | undefined;
  metadata: Record<string, string> | undefined;
  /** Where the settings came from, for messages: `TEMPORAL_PROFILE=prod in /etc/temporal.toml`, or `environment`. */
  origin: string;
  /** Names to use in messages for each setting (the variable, or the profile field that gave it). */
  names: { address: string; apiKey: string; clientCert: string; clientKey: string; serverCa: string };
}

export const DEFAULT_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';

const ENV_PREFIXES = ['TEMPORAL_'];

/**
 * Reads Temporal's environment configuration through @temporalio/envconfig (TOML profile, then TEMPORAL_* variables
 * over it), validates it, and loads certificate files. Throws TemporalSettingsError before anything connects.
 */
export function readTemporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  // A blank variable (common in compose files and .env templates) means unset, as for every other setting here.
  const vars: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (ENV_PREFIXES.some((p) => key.startsWith(p)) && value.trim() === '') continue;
    vars[key] = value;
  }
  const profileName = vars.TEMPORAL_PROFILE ?? 'default';
  const file = vars.TEMPORAL_CONFIG_FILE;
  const field = (name: string) => `profile.${profileName}.${name}${file ? ` in ${file}` : ''}`;
  const from = (envName: string, tomlName: string) => (vars[envName] !== undefined ? envName : field(tomlName));

  checkBool(vars, 'TEMPORAL_TLS');
  checkBool(vars, 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION');
  if (vars.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === 'true' || vars.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION === '1') {
    throw new TemporalSettingsError(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: the TypeScript SDK cannot skip host verification; set ' +
        'TEMPORAL_TLS_SERVER_NAME to the name in the server certificate instead',
    );
  }
  if (file !== undefined && !fs.existsSync(file)) {
    throw new TemporalSettingsError(`TEMPORAL_CONFIG_FILE: no such file ${file}`);
  }

  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: vars });
  } catch (err) {
    const message = (err as Error).message;
    if (/Profile '.*' not found/.test(message)) {
      throw new TemporalSettingsError(
        `TEMPORAL_PROFILE: no profile "${profileName}" in ${file ?? 'the Temporal config file (~/.config/temporalio/temporal.toml)'}`,
      );
    }
    throw new TemporalSettingsError(`${file ? `TEMPORAL_CONFIG_FILE ${file}` : 'Temporal config file'}: ${message}`);
  }

  const names = {
    address: from('TEMPORAL_ADDRESS', 'address'),
    apiKey: from('TEMPORAL_API_KEY', 'api_key'),
    clientCert: certName(vars, 'TEMPORAL_TLS_CLIENT_CERT', field('tls.client_cert')),
    clientKey: certName(vars, 'TEMPORAL_TLS_CLIENT_KEY', field('tls.client_key')),
    serverCa: certName(vars, 'TEMPORAL_TLS_SERVER_CA_CERT', field('tls.server_ca_cert')),
  };
  const address = profile.address ?? DEFAULT_ADDRESS;
  if (!/^[^\s:]+:\d{1,5}$/.test(address)) {
    throw new TemporalSettingsError(`${names.address} must be host:port, e.g. ${DEFAULT_ADDRESS}`);
  }
  const namespace = profile.namespace ?? DEFAULT_NAMESPACE;
  const apiKey = profile.apiKey;
  if (apiKey !== undefined && /\s/.test(apiKey)) {
    throw new TemporalSettingsError(`${names.apiKey}: the API key contains whitespace (a stray newline or space?)`);
  }

  let tls: TLSConfig | boolean | undefined;
  if (profile.tls?.disabled === true) tls = false;
  else if (profile.tls) tls = loadTls(profile, names);
  // An API key is only ever sent over TLS (as the SDK does: Temporal Cloud takes keys only with TLS).
  if (tls === undefined && apiKey !== undefined) tls = true;
  if (tls === false && apiKey !== undefined) {
    throw new TemporalSettingsError(`${from('TEMPORAL_TLS', 'tls.disabled')}: an API key is never sent without TLS`);
  }

  return {
    address,
    namespace,
    tls: tls === false ? undefined : tls,
    apiKey,
    metadata: profile.grpcMeta,
    origin: vars.TEMPORAL_PROFILE || file ? `profile "${profileName}"${file ? ` of ${file}` : ''}` : 'environment',
    names,
  };
}

function checkBool(vars: Record<string, string>, name: string): void {
  const value = vars[name];
  if (value !== undefined && !['true', 'false', '1', '0'].includes(value)) {
    throw new TemporalSettingsError(`${name}: expected true or false, got "${value}"`);
  }
}

function certName(vars: Record<string, string>, prefix: string, tomlField: string): string {
  if (vars[`${prefix}_PATH`] !== undefined) return `${prefix}_PATH`;
  if (vars[`${prefix}_DATA`] !== undefined) return `${prefix}_DATA`;
  // Not in the environment: the profile gave it, or (when it is missing) either place may.
  return `${tomlField.replace(/^(profile\.\S+?)( in .*)?$/, '$1_path$2')} (or ${prefix}_PATH)`;
}

function readSource(source: ConfigDataSource | undefined, name: string): Buffer | undefined {
  if (!source) return undefined;
  if ('data' in source) return Buffer.from(source.data);
  try {
    return fs.readFileSync(source.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TemporalSettingsError(
      `${name}: cannot read ${source.path} (${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message})`,
    );
  }
}

function loadTls(profile: ClientConfigProfile, names: TemporalSettings['names']): TLSConfig {
  const t = profile.tls!;
  const crt = readSource(t.clientCert, names.clientCert);
  const key = readSource(t.clientKey, names.clientKey);
  const ca = readSource(t.serverCACert, names.serverCa);
  if (crt && !key) throw new TemporalSettingsError(`${names.clientKey}: a client certificate needs its private key`);
  if (key && !crt) throw new TemporalSettingsError(`${names.clientCert}: a client key needs its certificate`);
  if (ca) parseCertificate(ca, names.serverCa);
  if (crt && key) {
    const cert = parseCertificate(crt, names.clientCert);
    let privateKey: crypto.KeyObject;
    try {
      privateKey = crypto.createPrivateKey(key);
    } catch {
      throw new TemporalSettingsError(`${names.clientKey}: not a PEM private key`);
    }
    if (!cert.checkPrivateKey(privateKey)) {
      throw new TemporalSettingsError(
        `${names.clientKey}: the key does not match the certificate in ${names.clientCert}`,
      );
    }
    const now = Date.now();
    if (Date.parse(cert.validTo) < now) {
      throw new TemporalSettingsError(`${names.clientCert}: the client certificate expired on ${cert.validTo}`);
    }
    if (Date.parse(cert.validFrom) > now) {
      throw new TemporalSettingsError(
        `${names.clientCert}: the client certificate is not valid before ${cert.validFrom}`,
      );
    }
  }
  return {
    ...(t.serverName ? { serverNameOverride: t.serverName } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
  };
}

function parseCertificate(pem: Buffer, name: string): crypto.X509Certificate {
  try {
    return new crypto.X509Certificate(pem);
  } catch {
    throw new TemporalSettingsError(`${name}: not a PEM certificate`);
  }
}

/** True when the settings say more than plaintext to the default address (so `exportflow dev` must not start a server). */
export function isSecured(settings: TemporalSettings): boolean {
  return settings.tls !== undefined || settings.apiKey !== undefined;
}
