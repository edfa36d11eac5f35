/**
 * A vendor job's state after one status call, the same shape from the vendor client through the activity to
 * the workflow's poll loop. `state` is the field the status activities have always returned: their results in
 * histories already in flight are read back by new workflow code, so the shape stays.
 */
export interface JobRunning {
  state: 'running';
  status: string;
  /** Vendor-reported progress, 0..100, when the vendor reports one. */
  progress: number | null;
  /** How long the vendor asked us to wait before the next call (Retry-After). */
  retryAfterMs?: number;
}

/** The finished job: its last status word and what the vendor hands over (`Done`, e.g. file URLs). */
export type JobDone<Done extends object> = { state: 'done'; status: string } & Done;

/** One status call's answer; `Other` adds a vendor's own states (myTracker's "Error occurred"). */
export type JobPoll<Done extends object, Other = never> = JobRunning | JobDone<Done> | Other;
