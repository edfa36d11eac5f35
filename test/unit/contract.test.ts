import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  WORKFLOW_TYPES,
  apsisCallbackSignal,
  downloadsTaskQueue,
  progressQuery,
  vendorTaskQueue,
} from '../../src/shared/contract';
import { PROVIDER_SPECS, type SupportedProvider } from '../../src/shared/provider-specs';

/**
 * The names other services, schedules and recorded histories rely on (docs/usage.md, "From other services"). The
 * rest of the suite starts, queries and signals through src/shared/contract.ts, so a rename compiles there; this
 * table is written out by hand on purpose, so renaming a value fails here.
 */
describe('contract names', () => {
  test('workflow types, per provider', () => {
    assert.deepEqual(WORKFLOW_TYPES, {
      altcraft: 'altcraftExport',
      'apsis-segment': 'apsisSegmentExport',
      'apsis-profile': 'apsisProfileExport',
      mytracker: 'mytrackerExport',
    });
    const providers = [
      'altcraft',
      'apsis-segment',
      'apsis-profile',
      'mytracker',
    ] as const satisfies SupportedProvider[];
    assert.deepEqual(Object.keys(PROVIDER_SPECS).sort(), [...providers].sort());
    for (const provider of providers) {
      assert.equal(PROVIDER_SPECS[provider].workflowType, WORKFLOW_TYPES[provider], provider);
    }
  });

  test('the progress query, the APSIS callback signal and the task queue names', () => {
    assert.equal(progressQuery.name, 'progress');
    assert.equal(apsisCallbackSignal.name, 'apsisCallback');
    assert.equal(vendorTaskQueue('exportflow', 'altcraft'), 'exportflow-altcraft');
    assert.equal(downloadsTaskQueue('exportflow'), 'exportflow-downloads');
  });
});
