import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { importCycles, importGraph } from '../helpers/import-graph';

/**
 * src/ has no import circle, type-only imports included: each module can be read, tested and moved from the
 * bottom up (docs/architecture.md, "What may import what").
 */
const SRC = path.resolve(__dirname, '..', '..', 'src');

describe('import cycles', () => {
  test('src/ has no import cycle, type-only imports included', () => {
    const graph = importGraph(SRC);
    assert.ok(graph.size > 50, `expected the whole of src/, read ${graph.size} files`);
    const cycles = importCycles(graph);
    assert.deepEqual(
      cycles.map((c) => c.join(' <-> ')),
      [],
      'these modules import each other (directly or around a circle); move what both need into a module of its own',
    );
  });

  test('the check sees a circle made only of type imports, and re-exports, dynamic imports and index files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'exportflow-cycles-'));
    try {
      mkdirSync(path.join(dir, 'pkg'));
      const write = (name: string, text: string) => writeFileSync(path.join(dir, name), text);
      write('a.ts', "import type { B } from './b';\nexport interface A { b?: B }\n");
      write('b.ts', "import { type A } from './a';\nexport interface B { a?: A }\n");
      write('c.ts', "export * from './pkg';\n");
      write('pkg/index.ts', "export const lazy = () => import('../c');\n");
      write('leaf.ts', "import { A } from './a';\nexport const x: A = {};\n");
      const cycles = importCycles(importGraph(dir));
      assert.deepEqual(cycles, [
        ['a.ts', 'b.ts'],
        ['c.ts', path.join('pkg', 'index.ts')],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
