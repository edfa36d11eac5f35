import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Frees the network buffers a fast download leaves behind. Each socket read is a fresh ArrayBuffer; the direct
 * write path makes almost no JavaScript garbage besides them, so V8 scavenges rarely and the dead buffers pile up
 * until their external size (~64 MiB) forces a collection: most of a fresh worker's RSS growth on its first large
 * file. A young-generation collection every few MiB frees them for well under a millisecond each.
 */
type GcFunction = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let collector: GcFunction | null | undefined;

function gcFunction(): GcFunction | null {
  if (collector !== undefined) return collector;
  const exposed = (globalThis as { gc?: GcFunction }).gc;
  if (typeof exposed === 'function') return (collector = exposed);
  try {
    // Exposes `gc` to contexts created from now on; the flag is switched back off at once, so nothing else sees it.
    v8.setFlagsFromString('--expose-gc');
    collector = vm.runInNewContext('gc') as GcFunction;
    v8.setFlagsFromString('--no-expose-gc');
  } catch {
    collector = null;
  }
  return collector;
}

/** Bytes moved (by all downloads of this process) between two young-generation collections. */
export const YOUNG_GC_EVERY = 16 * 1024 * 1024;

let moved = 0;

/** Counts bytes written from the network and runs a young-generation collection every YOUNG_GC_EVERY of them. */
export function bytesMoved(bytes: number): void {
  moved += bytes;
  if (moved < YOUNG_GC_EVERY) return;
  moved = 0;
  gcFunction()?.({ type: 'minor' });
}
