import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EXPORT_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import {
  createCommands,
  ensureSearchAttributes,
  NamespaceNotReadyError,
  requiredSearchAttributes,
} from '../../src/temporal/setup';

/** An operator service double: a namespace's attributes, and whether adding is allowed. */
function operator(existing: Record<string, number>, opts: { refuseAdd?: boolean; addRacer?: string[] } = {}) {
  const calls: string[] = [];
  const attrs = { ...existing };
  return {
    calls,
    connection: {
      operatorService: {
        async listSearchAttributes() {
          calls.push('list');
          return { customAttributes: { ...attrs } };
        },
        async addSearchAttributes(req: { searchAttributes: Record<string, number> }) {
          calls.push(`add ${Object.keys(req.searchAttributes).sort().join(',')}`);
          // Another worker registered these meanwhile.
          for (const name of opts.addRacer ?? []) attrs[name] = 2;
          if (opts.refuseAdd || opts.addRacer) {
            throw Object.assign(new Error('7 PERMISSION_DENIED: Request unauthorized.'), {
              code: 7,
              details: 'Request unauthorized.',
            });
          }
          Object.assign(attrs, req.searchAttributes);
          return {};
        },
      },
    } as unknown as Parameters<typeof ensureSearchAttributes>[0],
  };
}

const ALL = Object.values(EXPORT_SEARCH_ATTRIBUTES).map((k) => k.name);

describe('namespace readiness (search attributes)', () => {
  test('the list comes from shared/search-attributes.ts, with CLI type words', () => {
    const required = requiredSearchAttributes();
    assert.deepEqual(
      required.map((a) => a.name),
      ALL,
    );
    const byName = Object.fromEntries(required.map((a) => [a.name, a.cliType]));
    assert.equal(byName.ExportProvider, 'Keyword');
    assert.equal(byName.ExportBytes, 'Int');
  });

  test('all present: one list call, nothing added', async () => {
    const op = operator(Object.fromEntries(ALL.map((n) => [n, 2])));
    assert.deepEqual(await ensureSearchAttributes(op.connection, 'ns'), []);
    assert.deepEqual(op.calls, ['list']);
  });

  test('missing and allowed: registers exactly the missing ones', async () => {
    const op = operator({ ExportProvider: 2 });
    const added = await ensureSearchAttributes(op.connection, 'ns');
    assert.deepEqual(
      added,
      ALL.filter((n) => n !== 'ExportProvider'),
    );
    assert.deepEqual(op.calls, ['list', `add ${[...added].sort().join(',')}`]);
  });

  test('missing and refused: NamespaceNotReadyError names each attribute and the exact commands', async () => {
    const op = operator({ ExportProvider: 2 }, { refuseAdd: true });
    const err = await ensureSearchAttributes(op.connection, 'exports.acct1').then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof NamespaceNotReadyError);
    assert.deepEqual(
      err.missing.map((a) => a.name),
      ALL.filter((n) => n !== 'ExportProvider'),
    );
    assert.match(err.message, /PERMISSION_DENIED/);
    assert.match(
      err.message,
      /temporal operator search-attribute create --namespace exports\.acct1 --name ExportBytes --type Int/,
    );
    assert.match(
      err.message,
      /temporal operator search-attribute create --namespace exports\.acct1 --name ExportPhase --type Keyword/,
    );
    assert.doesNotMatch(err.message, /--name ExportProvider /, 'an attribute that exists is not listed');
    assert.match(
      err.message,
      /tcld namespace search-attributes add --namespace exports\.acct1 .*--search-attribute "ExportBytes=Int"/,
    );
  });

  test('refused, but another worker registered them meanwhile: fine', async () => {
    const op = operator({}, { addRacer: ALL });
    assert.deepEqual(await ensureSearchAttributes(op.connection, 'ns'), ALL);
  });

  test('tcld command takes every missing attribute in one call', () => {
    const c = createCommands('n', requiredSearchAttributes());
    assert.equal(c.temporal.length, ALL.length);
    assert.equal(c.tcld.match(/--search-attribute /g)?.length, ALL.length);
  });
});
