import { isIP } from 'node:net';
import tls from 'node:tls';
import type { TemporalSettings } from './settings';

/** HTTP/2 client preface and an empty SETTINGS frame: a gRPC server answers with its own SETTINGS. */
const H2_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

/** The host part of `host:port` (brackets of an IPv6 literal removed). */
export function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
}

/** True for an IPv4 or IPv6 literal: RFC 6066 allows only host names as TLS server names (SNI). */
export function isIpLiteral(host: string): boolean {
  return isIP(host) !== 0;
}

/**
 * One TLS handshake to the frontend with the same CA, client pair and server name as the real connection, to say
 * precisely why TLS failed (grpc-js reports only a deadline). Resolves with the reason, or undefined when the
 * handshake and the first HTTP/2 exchange succeed (or nothing answers at all: that is not a TLS problem).
 */
export function diagnoseTls(
  settings: TemporalSettings,
  signal?: AbortSignal,
  timeoutMs = 5000,
): Promise<string | undefined> {
  const cfg = typeof settings.tls === 'object' ? settings.tls : {};
  const idx = settings.address.lastIndexOf(':');
  const host = hostOf(settings.address);
  const n = settings.names;
  // The server name goes out as SNI only when it is a name (no DEP0123); the certificate check still uses it.
  const name = cfg.serverNameOverride ?? host;
  return new Promise((resolve) => {
    let settled = false;
    const done = (reason: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const socket = tls.connect({
      host,
      port: Number(settings.address.slice(idx + 1)),
      ...(isIpLiteral(name) ? {} : { servername: name }),
      ALPNProtocols: ['h2'],
      ...(cfg.serverRootCACertificate ? { ca: Buffer.from(cfg.serverRootCACertificate) } : {}),
      ...(cfg.clientCertPair
        ? { cert: Buffer.from(cfg.clientCertPair.crt), key: Buffer.from(cfg.clientCertPair.key) }
        : {}),
      ...(cfg.serverNameOverride
        ? { checkServerIdentity: (_h, cert) => tls.checkServerIdentity(cfg.serverNameOverride!, cert) }
        : {}),
    });
    const timer = setTimeout(() => done(undefined), timeoutMs);
    // Once the real connection works, the verdict is not needed.
    signal?.addEventListener('abort', () => done(undefined), { once: true });
    let handshook = false;
    // Some servers (Node's among them) check the client certificate after the handshake and just hang up.
    const hungUp = () =>
      handshook && cfg.clientCertPair
        ? `closed the connection right after the TLS handshake: it most likely refused our client certificate (${n.clientCert}): not signed by a CA it trusts, or revoked`
        : undefined;
    socket.once('secureConnect', () => {
      handshook = true;
      socket.write(H2_PREFACE);
    });
    // With TLS 1.3 the server judges our certificate after our side finished: its verdict arrives as the first read.
    socket.once('data', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(tlsReason(err, n) ?? hungUp()));
    socket.once('close', () => done(hungUp()));
  });
}

function tlsReason(err: NodeJS.ErrnoException, n: TemporalSettings['names']): string | undefined {
  const code = err.code ?? '';
  const text = `${code} ${err.message}`;
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET/.test(code)) return undefined;
  if (/CERTIFICATE_REQUIRED/i.test(text)) {
    return 'refused the TLS handshake: it requires a client certificate (set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)';
  }
  if (
    /UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|alert number 4[2-9]/i.test(
      text,
    )
  ) {
    return `refused our client certificate in the TLS handshake (${n.clientCert}): not signed by a CA it trusts, expired or revoked`;
  }
  if (/HOSTNAME|ALTNAME|IP: .* is not in the cert/i.test(text)) {
    return `presented a TLS certificate for another name (${err.message}); set TEMPORAL_TLS_SERVER_NAME to the name in it`;
  }
  if (
    /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE|CERT_HAS_EXPIRED/i.test(
      text,
    )
  ) {
    return `presented a TLS server certificate we do not trust (${code || err.message}): set ${n.serverCa} to the CA that signed it`;
  }
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL|HTTP_REQUEST/i.test(text)) {
    return 'does not speak TLS at this address (TLS is on in the settings: TEMPORAL_TLS, TEMPORAL_API_KEY or a certificate)';
  }
  return `refused the TLS handshake (${code || err.message})`;
}

/** For plaintext settings: does the server at the address expect TLS? */
export function speaksTls(address: string, timeoutMs = 3000): Promise<boolean> {
  const idx = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const host = hostOf(address);
    const socket = tls.connect({
      host,
      ...(isIpLiteral(host) ? {} : { servername: host }),
      port: Number(address.slice(idx + 1)),
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
    });
    const done = (yes: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(yes);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    // An alert from the server (e.g. certificate required) still proves it speaks TLS.
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(/alert|CERTIFICATE_REQUIRED/i.test(`${err.code} ${err.message}`)),
    );
  });
}
