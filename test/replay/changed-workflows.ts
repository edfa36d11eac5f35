/**
 * The real workflows with one deliberate, unguarded change: altcraftExport sleeps one second before it
 * starts. That adds a timer command in front of everything the recorded histories hold, so replaying an
 * Altcraft fixture against this module must fail with a DeterminismViolationError (see replay.test.ts).
 */
import { sleep } from '@temporalio/workflow';
import { altcraftExport as recordedAltcraftExport } from '../../src/workflows/altcraft';
import type { AltcraftInput } from '../../src/shared/inputs';

export { apsisProfileExport, apsisSegmentExport, mytrackerExport } from '../../src/workflows';

export async function altcraftExport(input: AltcraftInput): ReturnType<typeof recordedAltcraftExport> {
  await sleep(1000);
  return recordedAltcraftExport(input);
}
