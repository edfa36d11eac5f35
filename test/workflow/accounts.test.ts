import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FAILURE_TYPES, finalFailure } from '../../src/shared/failure-types';
import { COMMON_ACTIVITIES, Harness, altcraftFile, type Script } from './harness';
import { runToEnd } from './run';

/**
 * The account an export names travels with every vendor call (its name only), and an account the worker has no
 * credentials for ends the export at its first call, without retries or polls. Activities are test doubles.
 */
describe('named accounts under time skipping', { timeout: 300_000 }, () => {
  let h: Harness;
  before(async () => void (h = await Harness.start('accounts')));
  after(() => h?.close());

  const altcraftDoubles = {
    altcraftCreateExport: () => ({ taskId: 't1' }),
    altcraftTaskStatus: () => ({ state: 'done', status: 'completed', urls: ['u1', 'u2'], total: 2 }),
    altcraftDownload: (i, call) => altcraftFile(`${call.attempt}-${i.fileName}`),
  } satisfies Script;

  test('every vendor call of a named-account export carries the account; default ones carry none', async () => {
    h.script('acc-eu', altcraftDoubles);
    const eu = await runToEnd(h, 'altcraft', 'acc-eu', { sourceType: 'database', sourceId: 1, account: 'EU' });
    assert.equal(eu.kind, 'completed', JSON.stringify(eu));
    // Common activities (file removal, the action count) run on the main queue and need no account.
    const euCalls = h.callsOf('acc-eu').filter((c) => !(COMMON_ACTIVITIES as readonly string[]).includes(c.name));
    assert.ok(euCalls.length >= 4);
    assert.deepEqual(
      new Set(euCalls.map((c) => ('account' in c.input ? c.input.account : undefined))),
      new Set(['eu']),
    );

    h.script('acc-default', altcraftDoubles);
    const plain = await runToEnd(h, 'altcraft', 'acc-default', { sourceType: 'database', sourceId: 1 });
    assert.equal(plain.kind, 'completed', JSON.stringify(plain));
    // Exactly the inputs recorded before accounts existed: no `account` key at all.
    assert.ok(h.callsOf('acc-default').every((c) => !('account' in c.input)));
  });

  test('a missing credential ends the export at its first call: one attempt, no poll, WorkerMisconfigured', async () => {
    h.script('acc-missing', {
      mytrackerCreateExport: (i) => {
        throw finalFailure(
          FAILURE_TYPES.workerMisconfigured,
          `MYTRACKER_API_SECRET__${String(i.account).toUpperCase()} is not set in the worker's environment`,
        );
      },
    });
    const out = await runToEnd(h, 'mytracker', 'acc-missing', { segmentId: 4, account: 'nosuch' });
    assert.equal(out.kind, 'failed', JSON.stringify(out));
    assert.equal(out.kind === 'failed' && out.type, FAILURE_TYPES.workerMisconfigured);
    assert.match(out.kind === 'failed' ? out.message : '', /MYTRACKER_API_SECRET__NOSUCH is not set/);
    assert.equal(h.callsOf('acc-missing', 'mytrackerCreateExport').length, 1);
    assert.equal(h.callsOf('acc-missing', 'mytrackerExportStatus').length, 0);
  });
});
