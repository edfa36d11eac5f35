import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * Frees the network buffers a fast download leaves behind. Each socket read is a fresh ArrayBuffer; the direct
 * write path makes almost no JavaScript garbage besides them, so V8 scavenges rarely and the dead buffers pile up
 * until their external size (~64 MiB) forces a collection: most of a fresh worker's RSS growth on its first large
 * file. A young-generation collection every few MiB frees them for well under a millisecond each.
 *
 * Off until enableYoungGenerationCollection() runs: taking V8's `gc` function is a process-wide act (it switches a
 * V8 flag for a moment), so it happens only where a caller asks for it by name, never on import or on first use.
 * The worker asks (src/activities/download-in-activity.ts); code that calls downloadToFile directly (tests, bench)
 * downloads without the collections unless it calls this too. See README.md, "Memory".
 */
type GcFunction = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

/** Bytes moved (by all downloads of this process) between two young-generation collections. */
export const YOUNG_GC_EVERY = 16 * 1024 * 1024;

let collector: GcFunction | null = null;
let asked = false;
let moved = 0;

/**
 * From now on, runs a young-generation collection every YOUNG_GC_EVERY bytes written from the network, in this
 * process. Uses `gc` when the process was started with --expose-gc; otherwise switches the flag on just long
 * enough to take `gc` from a fresh context, and off again, so no other code sees it. Idempotent; returns whether
 * the collections are on (false where V8 refuses the flag).
 */
export function enableYoungGenerationCollection(): boolean {
  if (asked) return collector !== null;
  asked = true;
  const exposed = (globalThis as { gc?: GcFunction }).gc;
  if (typeof exposed === 'function') {
    collector = exposed;
    return true;
  }
  try {
    v8.setFlagsFromString('--expose-gc');
    collector = vm.runInNewContext('gc') as GcFunction;
    v8.setFlagsFromString('--no-expose-gc');
  } catch {
    collector = null;
  }
  return collector !== null;
}

/** Counts bytes written from the network; with the collections enabled, runs one every YOUNG_GC_EVERY of them. */
export function bytesMoved(bytes: number): void {
  if (!collector) return;
  moved += bytes;
  if (moved < YOUNG_GC_EVERY) return;
  moved = 0;
  collector({ type: 'minor' });
}
