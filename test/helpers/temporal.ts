import net from 'node:net';
import { ensureTemporalCli, startDevServer, type DevServer } from '../../src/dev/temporal-server';

/** A free TCP port on 127.0.0.1 (the OS picks it; the tiny race before use is acceptable in tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
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
