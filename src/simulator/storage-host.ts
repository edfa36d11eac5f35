/**
 * A second listening address for the simulated object storage that myTracker's file links point to. Real links
 * are on another host (`rawdata.hb.bizmrg.com`, not tracker.my.com), so the storage host is another origin:
 * 127.0.0.2 when the simulator listens on 127.0.0.1 (Linux routes all of 127.0.0.0/8 to loopback), else the same
 * address on another port. Either way a client that sent the API signature there would be seen doing it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StorageHost {
  url: string;
  close(): Promise<void>;
}

export async function listenStorageHost(
  apiHost: string,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<StorageHost> {
  const candidates = apiHost === '127.0.0.1' ? ['127.0.0.2', apiHost] : [apiHost];
  let lastError: unknown;
  for (const host of candidates) {
    const server = createServer(handle);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, host, () => resolve());
      });
    } catch (err) {
      lastError = err;
      continue;
    }
    const port = (server.address() as AddressInfo).port;
    return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, close: () => closeServer(server) };
  }
  throw lastError;
}

function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}
