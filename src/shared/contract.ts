import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ExportProgress } from './manifest';
import { type Vendor } from './vendors';

/**
 * Names other services rely on (docs/usage.md, "From other services"), defined once for the worker, the workflows, the client, the
 * callback receiver and schedules. Changing one breaks running exports and their callers.
 */
export const WORKFLOW_TYPES = {
  altcraft: 'altcraftExport',
  'apsis-segment': 'apsisSegmentExport',
  'apsis-profile': 'apsisProfileExport',
  mytracker: 'mytrackerExport',
} as const;
export type WorkflowType = (typeof WORKFLOW_TYPES)[keyof typeof WORKFLOW_TYPES];

/** Answers where an export is (phase, vendor progress, files), for `exportflow status` and progress bars. */
export const progressQuery = defineQuery<ExportProgress>('progress');

/** Sent by the callback receiver when APSIS calls back for a single-profile export. */
export interface ApsisCallbackSignal {
  code: number;
  message: string;
}
export const apsisCallbackSignal = defineSignal<[ApsisCallbackSignal]>('apsisCallback');

/** A vendor's activity task queue: the workflow's own queue plus the vendor, e.g. `exportflow-altcraft`. */
export function vendorTaskQueue(taskQueue: string, vendor: Vendor): string {
  return `${taskQueue}-${vendor}`;
}

/**
 * Where storage downloads run (myTracker and Altcraft file links): they spend no vendor API quota, so they take
 * no rate limit and do not queue behind API calls, e.g. `exportflow-downloads`.
 */
export function downloadsTaskQueue(taskQueue: string): string {
  return `${taskQueue}-downloads`;
}
