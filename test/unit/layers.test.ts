import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { importGraph } from '../helpers/import-graph';

/**
 * The layers of docs/architecture.md ("Layers and what may import what"), checked on every import of src/
 * (type-only ones included). A module's layer is its top folder; a loose top-level file belongs to the folder of
 * the same name (`client.ts` with `client/`), `config.ts` is a layer of its own. That workflows import activities
 * by type only is ESLint's part (eslint.config.mjs), not this test's.
 */
const SRC = path.resolve(__dirname, '..', '..', 'src');

const MAY_IMPORT: Record<string, readonly string[]> = {
  shared: [],
  util: [],
  temporal: ['shared', 'util'],
  providers: ['shared', 'util'],
  config: ['shared', 'temporal', 'util'],
  quota: ['config', 'shared', 'util'],
  telemetry: ['config', 'providers', 'shared', 'util'],
  workflows: ['shared', 'activities'],
  activities: ['config', 'providers', 'quota', 'shared', 'telemetry', 'util'],
  callbacks: ['config', 'providers', 'shared', 'temporal', 'util'],
  client: ['config', 'shared', 'telemetry', 'temporal', 'util'],
  worker: ['activities', 'callbacks', 'config', 'providers', 'quota', 'shared', 'telemetry', 'temporal', 'util'],
  dev: ['config', 'simulator', 'shared', 'temporal', 'util', 'worker'],
  cli: [
    'callbacks',
    'client',
    'config',
    'dev',
    'providers',
    'quota',
    'shared',
    'simulator',
    'telemetry',
    'temporal',
    'util',
    'worker',
  ],
  // Written from the vendors' pages apart from the clients, so a misreading on either side shows in the tests;
  // it shares only the list of vendors.
  simulator: [],
};
/** Single files a layer may import although their folder is out of its reach. */
const ALSO: Record<string, readonly string[]> = {
  simulator: ['shared/vendors.ts'],
};

function layerOf(file: string): string {
  const parts = file.split(path.sep);
  return parts.length === 1 ? parts[0]!.replace(/\.ts$/, '') : parts[0]!;
}

describe('layers', () => {
  test('every import of src/ goes to its own layer or one the architecture page allows', () => {
    const graph = importGraph(SRC);
    const unknown = new Set<string>();
    const wrong: string[] = [];
    for (const [from, targets] of graph) {
      const layer = layerOf(from);
      const allowed = MAY_IMPORT[layer];
      if (!allowed) {
        unknown.add(layer);
        continue;
      }
      for (const to of targets) {
        const target = layerOf(to);
        if (target === layer || allowed.includes(target) || ALSO[layer]?.includes(to.split(path.sep).join('/'))) {
          continue;
        }
        wrong.push(`${from} -> ${to} (${layer} may not import ${target})`);
      }
    }
    assert.deepEqual([...unknown], [], 'top-level parts of src/ with no row in MAY_IMPORT (and docs/architecture.md)');
    assert.deepEqual(wrong, []);
  });
});
