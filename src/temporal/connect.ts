import { Connection, type ConnectionOptions } from '@temporalio/client';
import type { TemporalSettings } from './settings';
import { diagnoseTls, hostOf, isIpLiteral, speaksTls } from './tls-probe';

/** Temporal could not be reached or refused us; the message says which, without a gRPC dump. */
export class TemporalConnectError extends Error {
  override name = 'TemporalConnectError';
}

/** Options for a client Connection (grpc-js) from the settings. */
export function connectionOptions(settings: TemporalSettings, connectTimeoutMs = 10_000): ConnectionOptions {
  if (settings.tls) quietIpServernameWarning(settings);
  return {
    address: settings.address,
    tls: settings.tls,
    ...(settings.apiKey !== undefined ? { apiKey: settings.apiKey } : {}),
    ...(settings.metadata ? { metadata: settings.metadata } : {}),
    connectTimeout: connectTimeoutMs,
  };
}

let ipServernameQuieted = false;

/**
 * TLS to an IP address: grpc-js hands Node's tls.connect the host (or TEMPORAL_TLS_SERVER_NAME) as `servername`
 * even when it is an IP literal, and Node prints DEP0123 ("Setting the TLS ServerName to an IP address is not
 * permitted by RFC 6066") to the user's terminal. The connection is sound (the certificate is still checked
 * against that IP) and grpc-js offers no way to leave the name out, so this drops exactly that one warning code,
 * and only once such a connection is configured; every other warning passes through.
 */
export function quietIpServernameWarning(settings: TemporalSettings): void {
  const name = typeof settings.tls === 'object' ? settings.tls.serverNameOverride : undefined;
  if (ipServernameQuieted || !isIpLiteral(name ?? hostOf(settings.address))) return;
  ipServernameQuieted = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((...args: unknown[]) => {
    const options = args[1];
    const code = typeof options === 'object' && options !== null ? (options as { code?: unknown }).code : args[2];
    if (code === 'DEP0123') return;
    emit(...args);
  }) as typeof process.emitWarning;
}

/** Connects a client Connection and proves it with one call, so a refused key or certificate shows here. */
export function connectTemporal(settings: TemporalSettings): Promise<Connection> {
  return connectAndProve(settings, () => Connection.connect(connectionOptions(settings)));
}

/** A client or worker connection: closable, with the namespace-scoped call that proves it may be used. */
interface ProvableConnection {
  close(): Promise<void>;
  workflowService: { describeNamespace(request: { namespace: string }): Promise<unknown> };
}

/**
 * Dials with `open` (through establish) and proves the connection with a namespace-scoped call: connecting only
 * checks reachability, the call shows whether the key or certificate may use the namespace. A refused call
 * closes the connection before the error goes on.
 */
export function connectAndProve<C extends ProvableConnection>(
  settings: TemporalSettings,
  open: () => Promise<C>,
): Promise<C> {
  return establish(settings, async () => {
    const connection = await open();
    try {
      await connection.workflowService.describeNamespace({ namespace: settings.namespace });
    } catch (err) {
      await connection.close().catch(() => undefined);
      throw err;
    }
    return connection;
  });
}

/**
 * Dials while a plain TLS handshake runs beside it: grpc-js only ever reports a deadline for a refused handshake,
 * the handshake says why (and at once, instead of after the connect timeout).
 */
async function establish<C extends { close(): Promise<void> }>(
  settings: TemporalSettings,
  dial: () => Promise<C>,
): Promise<C> {
  const stopProbe = new AbortController();
  const expectsTls = new TemporalConnectError(
    `Temporal at ${settings.address} expects TLS, but no TLS settings are given: set TEMPORAL_TLS=true ` +
      '(with TEMPORAL_TLS_SERVER_CA_CERT_PATH for a private CA), TEMPORAL_API_KEY, or a client certificate',
  );
  // With TLS settings: a handshake beside the dial says why TLS fails. Without: a plaintext dial to a TLS server
  // only times out, so after a short wait a handshake checks whether TLS is what the server expects.
  const probe: Promise<string | undefined> = settings.tls
    ? diagnoseTls(settings, stopProbe.signal)
    : waitUnlessAborted(PLAINTEXT_CHECK_AFTER_MS, stopProbe.signal).then(async (waited) =>
        waited && (await speaksTls(settings.address)) ? expectsTls.message : undefined,
      );
  const attempt = dial();
  const refused = probe.then((reason) => {
    if (reason)
      throw new TemporalConnectError(
        reason.startsWith('Temporal at') ? reason : `Temporal at ${settings.address} ${reason}`,
      );
    return attempt;
  });
  try {
    const connection = await Promise.race([attempt, refused]);
    stopProbe.abort();
    return connection;
  } catch (err) {
    // The TLS verdict is still wanted below; the plaintext timer is not.
    if (!settings.tls) stopProbe.abort();
    // If the handshake verdict came first, the dial may still succeed later: do not leak that connection.
    attempt.then((c) => c.close()).catch(() => undefined);
    if (err instanceof TemporalConnectError) throw err;
    // Core may give up before the handshake verdict is in; that verdict is the better explanation.
    const reason = settings.tls ? await probe : undefined;
    if (reason) throw new TemporalConnectError(`Temporal at ${settings.address} ${reason}`);
    if (!settings.tls && (await speaksTls(settings.address))) throw expectsTls;
    throw explainConnectError(err, settings);
  }
}

const PLAINTEXT_CHECK_AFTER_MS = 2000;

/** Resolves true after `ms`, or false as soon as `signal` aborts (and then holds no timer). */
function waitUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(true), ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve(false);
      },
      { once: true },
    );
  });
}

/** A connection that dials on first use (the callback receiver starts before Temporal is needed). */
export function lazyClientConnection(settings: TemporalSettings): Connection {
  return Connection.lazy(connectionOptions(settings));
}

/**
 * Turns what grpc-js or Core report into one sentence: which side refused (TLS, certificate, key, permission,
 * namespace) and which setting to look at.
 */
export function explainConnectError(err: unknown, settings: TemporalSettings): TemporalConnectError {
  // grpc-js wraps the call's ServiceError (with its status code) in a TransportError: look through the chain.
  const chain: { message?: string; code?: unknown }[] = [];
  for (let e: unknown = err; e && chain.length < 5; e = (e as { cause?: unknown }).cause)
    chain.push(e as { message?: string; code?: unknown });
  const raw = chain.map((e) => String(e.message ?? e)).join(' / ');
  const code = chain.map((e) => e.code).find((c): c is number => typeof c === 'number');
  const at = `Temporal at ${settings.address}`;
  const n = settings.names;
  const text = raw.toLowerCase();
  let why: string;
  if (code === 16 || /unauthenticated|invalid api key|authorization|valid authentication credentials/.test(text)) {
    why = settings.apiKey
      ? `refused the API key in ${n.apiKey} (UNAUTHENTICATED): check the key and that it is not expired or revoked`
      : `requires credentials (UNAUTHENTICATED): set TEMPORAL_API_KEY or a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH/_KEY_PATH)`;
  } else if (code === 7 || /permission denied|permissiondenied/.test(text)) {
    why = `denied permission (PERMISSION_DENIED) for namespace "${settings.namespace}": the key or certificate is valid but not allowed there`;
  } else if (code === 5 && /namespace/.test(text)) {
    why = `has no namespace "${settings.namespace}" (check TEMPORAL_NAMESPACE)`;
  } else if (
    /certificate required|alert_certificate_required|peer sent no certificates|handshake_failure|alert number 116/.test(
      text,
    )
  ) {
    why = `refused the TLS handshake: the server requires a client certificate (set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)`;
  } else if (
    /unknown ca|bad certificate|certificate expired|certificate revoked|unsupported certificate|alert number 4[2-9]/.test(
      text,
    )
  ) {
    why = `refused our client certificate in the TLS handshake (${n.clientCert}): not signed by a CA it trusts, expired or revoked`;
  } else if (
    /self.signed|unable to verify|unable to get local issuer|unknownissuer|invalid peer certificate|certificate verify failed|cert_untrusted|badsignature/.test(
      text,
    )
  ) {
    why = `presented a server certificate we do not trust (TLS): set ${n.serverCa} to the CA that signed it`;
  } else if (/hostname|altname|notvalidforname|not valid for name|does not match/.test(text)) {
    why = `presented a server certificate for another name (TLS): set TEMPORAL_TLS_SERVER_NAME to the name in it`;
  } else if (
    /wrong version number|packet length too long|http2 error|protocol error|frame with invalid size|invalid http version|unexpected eof|connection reset|tls/.test(
      text,
    ) &&
    settings.tls
  ) {
    why = `did not complete a TLS handshake: is it a TLS endpoint? (TLS is on because of ${settings.apiKey ? n.apiKey : 'TEMPORAL_TLS settings'})`;
  } else if (code === 14 || /unavailable|econnrefused|connect|timed out|deadline/.test(text)) {
    why = `did not answer (${firstLine(raw)}). Start one with \`npx exportflow dev\` or set TEMPORAL_ADDRESS`;
  } else {
    why = `failed: ${firstLine(raw)}`;
  }
  const out = new TemporalConnectError(`${at} ${why}`);
  (out as { cause?: unknown }).cause = err;
  return out;
}

/** The readable part of a gRPC or Core error: no `source: tonic::…` chain, one line. */
function firstLine(text: string): string {
  const line = text.split('\n')[0]!;
  const core = /message: "([^"]*)"/.exec(line);
  return (core ? core[1]! : line.replace(/,?\s*source: .*$/, '')).slice(0, 200);
}
