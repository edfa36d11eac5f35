/**
 * One writer per stored file in this process. A retried activity attempt can start while the attempt it
 * replaces still runs: the server gave up on the old one after a missed heartbeat (a starved machine), but the
 * old one learns of it only with its next heartbeat answer. Both would write, truncate, rename or remove the same
 * `.part` file, and the stored bytes could differ from the sha256 the winner reports. So a new download of a file
 * first stops the one before it and waits until that one has closed everything it wrote with.
 */

/** The download was replaced by a newer attempt of the same file; it stopped writing. */
export class SupersededError extends Error {
  override name = 'SupersededError';
}

interface Holder {
  stop: AbortController;
  released: Promise<void>;
}

const holders = new Map<string, Holder>();

/**
 * Runs `body` as the only writer of `key` (the file's final path or URI). A newer claim aborts `signal` and
 * starts only after `body` has settled, so `body` must stop all its writes and close its descriptors before it
 * settles. Claims queue in order: the newest one always wins.
 */
export async function withFileClaim<T>(key: string, body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const previous = holders.get(key);
  const stop = new AbortController();
  let release!: () => void;
  const me: Holder = { stop, released: new Promise<void>((resolve) => (release = resolve)) };
  holders.set(key, me);
  try {
    if (previous) {
      previous.stop.abort(new SupersededError(`a newer download of ${key} started; this one stopped writing`));
      await previous.released;
    }
    if (stop.signal.aborted) throw stop.signal.reason;
    return await body(stop.signal);
  } finally {
    if (holders.get(key) === me) holders.delete(key);
    release();
  }
}

/** Whether a download of `key` is running in this process (tests). */
export function isClaimed(key: string): boolean {
  return holders.has(key);
}
