import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { bytesMoved } from '../young-gc';

/**
 * Network chunks are gathered into writes of about this size (one writev each, no copying in JavaScript). Each
 * gathered chunk keeps a whole socket read buffer alive, and ten downloads of four connections each hold up to
 * forty batches: 256 KiB keeps that small (bench, 10 × 256 MiB at once: peak RSS growth 86 MiB, was 150 with
 * 512 KiB batches) while a writev still carries a few chunks (one download: no CPU difference measured).
 */
const WRITE_BATCH = 256 * 1024;
/** Gathered bytes beyond which the body is paused until the write in flight is done. */
const MAX_PENDING = 512 * 1024;

/** The body ended before the end of the range it was asked for. */
export class ShortBodyError extends Error {
  override name = 'ShortBodyError';
}

/**
 * Writes a response body into `fd` from `start`, straight from the network chunks: no stream stages, no hashing
 * on this path (a FileChecker reads the written bytes back beside it), one writev per ~256 KiB with the next batch
 * gathering while it runs. `end` (exclusive) stops at the end of a range: extra bytes are ignored and the body
 * destroyed; a body that ends before it rejects with ShortBodyError. `onWritten` gets the position up to which
 * the bytes are written (in the page cache), after each write.
 */
export function writeBodyAt(
  body: Readable,
  fd: number,
  start: number,
  end: number | undefined,
  onWritten: (position: number) => void,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let position = start; // next byte to write
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let inFlight = 0; // bytes handed to the writev in progress
    let writing = false;
    let ended = false;
    let failed = false;
    // A failure while a write is in flight waits for it: the caller closes `fd` when this settles, and a write
    // still queued then could land in whatever file reuses the descriptor number.
    let deferred: Error | undefined;

    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      body.off('data', onData);
      body.destroy();
      if (writing) deferred = err;
      else reject(err);
    };
    const finishIfDone = () => {
      if (writing || pendingBytes > 0 || failed || !ended) return;
      if (end !== undefined && position < end)
        return fail(new ShortBodyError(`body ended at ${position}, expected ${end}`));
      failed = true; // settled
      resolve(position);
    };
    const flush = () => {
      if (writing || pendingBytes === 0 || failed) return;
      const chunks = pending;
      const bytes = pendingBytes;
      pending = [];
      pendingBytes = 0;
      writing = true;
      inFlight = bytes;
      fs.writev(fd, chunks, position, (err, written) => {
        writing = false;
        inFlight = 0;
        if (deferred) return reject(deferred);
        if (failed) return;
        if (err) return fail(err);
        if (written !== bytes) return fail(new Error(`short write: ${written} of ${bytes} bytes`));
        position += bytes;
        bytesMoved(bytes);
        onWritten(position);
        if (body.isPaused() && !ended) body.resume();
        if (pendingBytes >= WRITE_BATCH || (ended && pendingBytes > 0)) flush();
        finishIfDone();
      });
    };
    const onData = (chunk: Buffer) => {
      let piece = chunk;
      if (end !== undefined) {
        // Bytes of a write still in flight are not in `position` yet: without them a range would take more
        // than its length (the first connection's whole-file answer overran into range 1 by a chunk).
        const room = end - position - inFlight - pendingBytes;
        if (piece.length >= room) {
          piece = piece.subarray(0, room);
          // The range is complete: stop reading (the first connection may be a whole-file 200 answer).
          ended = true;
          body.off('data', onData);
          body.destroy();
        }
      }
      if (piece.length > 0) {
        pending.push(piece);
        pendingBytes += piece.length;
      }
      if (pendingBytes >= WRITE_BATCH || ended) flush();
      if (pendingBytes >= MAX_PENDING && !ended) body.pause();
      finishIfDone();
    };
    body.on('data', onData);
    body.once('end', () => {
      ended = true;
      flush();
      finishIfDone();
    });
    body.once('error', (err) => {
      if (!ended) fail(err);
    });
    body.once('close', () => {
      // Destroyed without 'end' (aborted): an error follows or already came; if not, the body is short.
      if (!ended) setImmediate(() => fail(new ShortBodyError(`body closed at ${position + pendingBytes}`)));
    });
  });
}
