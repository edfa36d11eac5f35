import { ContinueAsNew, makeContinueAsNewFunc, patched, workflowInfo, type Workflow } from '@temporalio/workflow';
import { LEGACY_POLLS_PER_RUN, type ResolvedTiming } from '../shared/inputs';

/** Bound history well below Temporal's limits even when the server does not suggest continuing. */
export const MAX_HISTORY_EVENTS = 10_000;

/**
 * Polls per run before continue-as-new. v0.1.0 continued after 500 by default, which let a 24 h wait grow a
 * run to over 3,000 events; the default is now DEFAULT_TIMING.pollsPerRun. A run that v0.1.0 started without
 * an explicit pollsPerRun keeps 500 (it holds no marker for this patch), so its continue-as-new replays at
 * the same poll. An explicit pollsPerRun in the input is used as it is, as before.
 */
export function pollsPerRunOf(timing: ResolvedTiming): number {
  if (!timing.pollsPerRunDefaulted) return timing.pollsPerRun;
  return patched('polls-per-run-default-120') ? timing.pollsPerRun : LEGACY_POLLS_PER_RUN;
}

/** What of a run decides whether it continues as new: its polls so far and its history as Temporal sees it. */
export interface RunSize {
  pollsThisRun: number;
  pollsPerRun: number;
  continueAsNewSuggested: boolean;
  historyLength: number;
}

/**
 * When a long wait continues as new (checked after each poll interval): after `pollsPerRun` polls in this run,
 * when Temporal suggests it, or when the history passes MAX_HISTORY_EVENTS.
 */
export function continueAsNewDue(run: RunSize): boolean {
  return run.pollsThisRun >= run.pollsPerRun || run.continueAsNewSuggested || run.historyLength > MAX_HISTORY_EVENTS;
}

/** continueAsNewDue for this run, after `pollsThisRun` polls of its current loop. */
export function shouldContinueAsNew(pollsThisRun: number, pollsPerRun: number): boolean {
  const { continueAsNewSuggested, historyLength } = workflowInfo();
  return continueAsNewDue({ pollsThisRun, pollsPerRun, continueAsNewSuggested, historyLength });
}

/**
 * How a long wait continues as new: the caller passes the workflow's input with the tracker's carry-over (and
 * any vendor state, e.g. APSIS's poll URL), and the run's search attributes go along. Temporal starts the new
 * run with the attributes the command names and no others (the TypeScript SDK names none by default), so
 * without them the next run had to upsert all four again, an action per run.
 */
export function continueExport<F extends Workflow>(...args: Parameters<F>): Promise<never> {
  return makeContinueAsNewFunc<F>({ typedSearchAttributes: workflowInfo().typedSearchAttributes })(...args);
}

/** continue-as-new surfaces as an exception; it is not a failure and must pass through untouched. */
export function isContinueAsNew(err: unknown): boolean {
  return err instanceof ContinueAsNew;
}
