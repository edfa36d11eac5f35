import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExportClient, InputError } from '../../src/client';
import { inputFromOptions } from '../../src/cli/export-options';
import { ROW_COUNT_MISMATCH, rowsMatch } from '../../src/shared/manifest';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

describe('vendor totals against rows', () => {
  test('rowsMatchVendor is true/false when both counts are known, null when either is not', () => {
    assert.equal(rowsMatch(1343, 1343), true);
    assert.equal(rowsMatch(1343, 1342), false);
    assert.equal(rowsMatch(0, 0), true);
    assert.equal(rowsMatch(null, 10), null);
    assert.equal(rowsMatch(10, null), null);
  });

  test('requireTotal is a boolean Altcraft input; --require-total sets it', () => {
    const parsed = ExportClient.validate('altcraft', { sourceType: 'database', sourceId: 1, requireTotal: true });
    assert.equal((parsed as { requireTotal?: boolean }).requireTotal, true);
    assert.throws(
      () => ExportClient.validate('altcraft', { sourceType: 'database', sourceId: 1, requireTotal: 'yes' }),
      (err: unknown) => err instanceof InputError && /^requireTotal: expected true or false/.test(err.message),
    );
    const cli = { sourceType: 'database', sourceId: '1', format: 'csv' };
    assert.deepEqual(inputFromOptions('altcraft', { ...cli, requireTotal: true as unknown as string }), {
      sourceType: 'database',
      sourceId: 1,
      format: 'csv',
      requireTotal: true,
    });
    assert.equal('requireTotal' in (inputFromOptions('altcraft', cli) as object), false);
    assert.equal(ROW_COUNT_MISMATCH, FAILURE_TYPES.rowCountMismatch);
  });
});
