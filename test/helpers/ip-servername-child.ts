/**
 * Child of test/unit/tls-ip-servername.test.ts: a TLS server on 127.0.0.1 that hangs up after the handshake,
 * and one connection to it by IP, either bare (`tls.connect` with the IP as servername) or as exportflow makes
 * it (client Connection, then the TLS diagnosis). Prints what happened on stdout; Node prints its warnings on
 * stderr, which the test reads.
 */
import fs from 'node:fs';
import tls from 'node:tls';
import { connectTemporal } from '../../src/temporal/connect';
import { readTemporalSettings } from '../../src/temporal/settings';
import { diagnoseTls } from '../../src/temporal/tls-probe';

const server = tls.createServer(
  { key: fs.readFileSync(process.env.PKI_KEY!), cert: fs.readFileSync(process.env.PKI_CERT!), ALPNProtocols: ['h2'] },
  (socket) => {
    socket.on('error', () => {});
    setTimeout(() => socket.destroy(), 100);
  },
);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  void (async () => {
    if (process.argv[2] === 'bare') {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        servername: '127.0.0.1',
        ca: fs.readFileSync(process.env.PKI_CA!),
      });
      await new Promise((resolve) => socket.once('secureConnect', resolve).once('error', resolve));
      socket.destroy();
    } else {
      const settings = readTemporalSettings({
        TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: process.env.PKI_CA,
      });
      const err = await connectTemporal(settings).then(
        () => new Error('connected to a server that is not Temporal'),
        (e: Error) => e,
      );
      process.stdout.write(`connect: ${err.message}\n`);
      await diagnoseTls(settings);
      process.emitWarning('a warning that must still show');
    }
    // Warnings are printed on the next tick; give them one before leaving.
    setTimeout(() => {
      server.close();
      process.exit(0);
    }, 100);
  })();
});
