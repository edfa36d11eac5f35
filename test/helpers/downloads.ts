import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DownloadSpec } from '../../src/activities/download/engine';

/** A download as most engine tests ask for it: `data.csv` from an Altcraft link, rows counted; `more` overrides. */
export function csvSpec(url: string, dir: string, more: Partial<DownloadSpec> = {}): DownloadSpec {
  return { vendor: 'altcraft', url, headers: {}, dir, fileName: 'data.csv', countCsvRows: true, ...more };
}

/**
 * Answers with `data` and ETag "v1": from the offset of a `bytes=N-` Range as a 206 when `ranges` allows it,
 * otherwise the whole body as a 200. `headers` go on both.
 */
export function answerBytes(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  data: Buffer,
  headers: http.OutgoingHttpHeaders = {},
  ranges = true,
): void {
  const range = /bytes=(\d+)-/.exec(req.headers.range ?? '');
  if (range && ranges) {
    const start = Number(range[1]);
    res.writeHead(206, {
      ...headers,
      'content-range': `bytes ${start}-${data.length - 1}/${data.length}`,
      'content-length': data.length - start,
      etag: '"v1"',
    });
    res.end(data.subarray(start));
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': data.length, etag: '"v1"' });
  res.end(data);
}

/** Starts `server` on 127.0.0.1 at a port the OS picks; resolves to its base URL. */
export async function listenLoopback(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
