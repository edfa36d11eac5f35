import net from 'node:net';
import { ensureTemporalCli, startDevServer, type DevServer } from '../../src/dev/temporal-server';

/** A free TCP port on 127.0.0.1 (the OS picks it; the tiny race before use is acceptable in tests). */
/**
 * A port nothing listens on now, for a child process to bind later. Drawn at random below Linux's ephemeral
 * range (32768-60999): a port the kernel hands out by itself (listen(0)) is also what outgoing connections and
 * other test files' servers get, so between this check and the child's bind another process took it now and
 * then ("Address already in use" from a worker's metrics listener). Falls back to listen(0).
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A real Temporal dev server (the CLI binary installed by scripts/ensure-temporal), in memory, headless,
 * on a free port. Every test above unit level runs against one of these.
 */
export async function startTestTemporal(
  opts: { ui?: boolean; dbFile?: string; codecEndpoint?: string } = {},
): Promise<DevServer & { uiPort: number | null }> {
  const cli = await ensureTemporalCli();
  const port = await freePort();
  const uiPort = opts.ui ? await freePort() : null;
  const server = await startDevServer({
    cli,
    address: `127.0.0.1:${port}`,
    uiPort,
    dbFile: opts.dbFile,
    codecEndpoint: opts.codecEndpoint,
  });
  return { ...server, uiPort };
}
