import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ExportProgress } from '../shared/manifest';

/** Names other services rely on (CONTRACT.md); keep them stable. */
export const WORKFLOW_TYPES = {
  altcraft: 'altcraftExport',
  'apsis-segment': 'apsisSegmentExport',
  'apsis-profile': 'apsisProfileExport',
  mytracker: 'mytrackerExport',
} as const;

export const progressQuery = defineQuery<ExportProgress>('progress');

/** Sent by the callback receiver when APSIS calls back for a single-profile export. */
export interface ApsisCallbackSignal {
  code: number;
  message: string;
}
export const apsisCallbackSignal = defineSignal<[ApsisCallbackSignal]>('apsisCallback');
