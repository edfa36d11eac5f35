import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Harness, storedFile } from './harness';
import { runToEnd } from './run';

/**
 * The files of one Altcraft task download in parallel, at most PARALLEL_DOWNLOADS (3) at once, after the first
 * file alone has found out which token form the panel takes. Activities are test doubles that take real time,
 * so overlapping calls really overlap.
 */
describe('parallel downloads under time skipping', { timeout: 120_000 }, () => {
  let h: Harness;
  before(async () => void (h = await Harness.start('parallel')));
  after(() => h?.close());

  test('Altcraft: the first file alone, then the rest at most 3 at a time with its token form, in vendor order', async () => {
    const urls = Array.from({ length: 7 }, (_, i) => `/api/download/f${i + 1}.csv`);
    let inFlight = 0;
    let maxInFlight = 0;
    const events: string[] = [];
    const forms: (string | undefined)[] = [];
    h.script('ac-parallel', {
      altcraftCreateExport: () => ({ taskId: 't1' }),
      altcraftTaskStatus: () => ({ state: 'done', status: 'completed', urls, total: 7 }),
      altcraftDownload: async (i: { url: string; fileName: string; tokenForm?: string }) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        events.push(`start ${i.url}`);
        forms.push(i.tokenForm);
        // Later files finish first, so the manifest's order cannot come from completion order.
        await sleep(i.url.endsWith('f1.csv') ? 50 : 400 - urls.indexOf(i.url) * 40);
        events.push(`end ${i.url}`);
        inFlight--;
        return { ...storedFile(i.fileName), tokenForm: 'query' };
      },
    });
    const out = await runToEnd(h, 'altcraft', 'ac-parallel', { sourceType: 'database', sourceId: 5 });
    assert.equal(out.kind, 'completed', JSON.stringify(out));
    assert.equal(maxInFlight, 3, 'three downloads overlap, never more');
    assert.deepEqual(events.slice(0, 2), [`start ${urls[0]}`, `end ${urls[0]}`], 'the first file goes alone');
    assert.equal(forms[0], undefined, 'the first file tries the panel without a known token form');
    assert.ok(
      forms.slice(1).every((f) => f === 'query'),
      `later files use the form the first one found: ${forms.join(',')}`,
    );
    const manifest = out.kind === 'completed' ? out.manifest : undefined;
    assert.deepEqual(
      manifest?.files.map((f) => f.name),
      urls.map((u) => u.split('/').pop()),
      'files listed in the order Altcraft gave them',
    );
    assert.equal(manifest?.totalRows, 7);
    assert.equal(manifest?.rowsMatchVendor, true);
  });
});
