import { CancellationScope } from '@temporalio/workflow';

/** Files of one export downloaded at once: enough to overlap slow links, few enough for a vendor's quota. */
export const PARALLEL_DOWNLOADS = 3;

/**
 * Runs `task(0..count-1)` with at most `limit` running at once, in index order. On the first failure the other
 * tasks are cancelled and waited for, then that failure is thrown: nothing still runs (or writes files) once
 * this returns.
 */
export async function forEachBounded(
  count: number,
  limit: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  const scope = new CancellationScope();
  let failure: unknown;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < count) {
      const index = next++;
      try {
        await task(index);
      } catch (err) {
        if (failure === undefined) {
          failure = err;
          scope.cancel();
        }
      }
    }
  };
  await scope.run(() => Promise.all(Array.from({ length: Math.min(limit, count) }, lane)));
  if (failure !== undefined) throw failure;
}
