import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { ROW_COUNT_MISMATCH } from '../../src/client';
import { ClassifiedError } from '../../src/providers/errors';
import { FAILURE_TYPES, finalFailure } from '../../src/shared/failure-types';

/**
 * Failure type strings are a contract (CLI `--json` error.type, recorded histories): this table is written out
 * by hand on purpose, so renaming a value in src/shared/failure-types.ts fails here.
 */
describe('failure types', () => {
  test('every failure type keeps the string callers and recorded histories know', () => {
    const contract =
      'AltcraftError DownloadIntegrityError InvalidInput MyTrackerExportSpent RowCountMismatch StorageError ' +
      'VendorAuthError VendorJobFailed VendorJobGone VendorRateLimited VendorRequestError VendorResponseError ' +
      'VendorTimeout VendorUnavailable WorkerMisconfigured WorkerShutdown';
    assert.deepEqual(Object.values(FAILURE_TYPES).sort(), contract.split(' '));
    assert.equal(ROW_COUNT_MISMATCH, 'RowCountMismatch');
  });

  test('finalFailure makes a non-retryable ApplicationFailure of that type and message', () => {
    const failure = finalFailure(FAILURE_TYPES.timeout, 'report r1 did not finish');
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, FAILURE_TYPES.timeout);
    assert.equal(failure.message, 'report r1 did not finish');
    assert.equal(failure.nonRetryable, true);
  });

  test('a ClassifiedError carries its type, retryability and where it happened', () => {
    const err = new ClassifiedError(FAILURE_TYPES.storage, 'disk full', false, { vendor: 'altcraft' });
    assert.equal(err.name, 'ClassifiedError');
    assert.deepEqual([err.type, err.retryable, err.details.vendor], [FAILURE_TYPES.storage, false, 'altcraft']);
  });
});
