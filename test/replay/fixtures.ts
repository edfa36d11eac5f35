import fs from 'node:fs';
import path from 'node:path';
import type { History } from '@temporalio/common/lib/proto-utils';
import { historyFromJSON } from './history-json';

export const HISTORIES_DIR = path.join(__dirname, 'histories');

/** One recorded run, as listed in a label's index.json by scripts/record-histories.ts. */
export interface FixtureEntry {
  file: string;
  scenario: string;
  workflowType: string;
  workflowId: string;
  /** 1-based position in the continue-as-new chain. */
  run: number;
  runs: number;
  outcome: string;
  events: number;
}

export interface Fixture extends FixtureEntry {
  label: string;
  /** `<label>/<file>`, how failures name the fixture. */
  name: string;
  history: History;
}

export function readIndex(label: string): FixtureEntry[] {
  return JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, label, 'index.json'), 'utf8')) as FixtureEntry[];
}

/** Every label (a directory under histories/), oldest recordings first by name. */
export function labels(): string[] {
  if (!fs.existsSync(HISTORIES_DIR)) return [];
  return fs
    .readdirSync(HISTORIES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export function loadFixtures(label: string): Fixture[] {
  return readIndex(label).map((entry) => ({
    ...entry,
    label,
    name: `${label}/${entry.file}`,
    history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, label, entry.file), 'utf8'))),
  }));
}
