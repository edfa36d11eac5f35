import type { Command } from 'commander';
import { UsageError } from './output';

/** CLI flags of the two APSIS One exports, by input field (merged into export-options' FLAG_OF_FIELD). */
export const APSIS_FLAG_OF_FIELD: Record<string, string> = {
  section: '--section',
  segments: '--segment',
  attributes: '--attribute',
  tags: '--tag',
  exportKey: '--export-key',
  history: '--history',
  typeDefinitions: '--type-definitions',
  merged: '--merged',
};

export function declareApsisSegmentOptions(cmd: Command): Command {
  return cmd
    .option('--section <discriminator>', 'section the segments belong to (section_discriminator)')
    .option(
      '--segment <[name=]discriminator...>',
      'segment to export, optionally named for --filter (unnamed: s1, s2, ... in order); repeat or list several',
    )
    .option('--filter <expr>', 'expression over the segment names, e.g. "!(europe) & women" (default: s1 | s2 | ...)')
    .option('--attribute <discriminator...>', 'attribute to add as a column; repeat for more')
    .option('--tag <discriminator...>', 'tag to add as a column; repeat for more')
    .option('--format <format>', 'csv, csv.gz or xlsx', 'csv');
}

export function declareApsisProfileOptions(cmd: Command): Command {
  return cmd
    .option('--export-key <key>', 'export key of the profile')
    .option('--section <discriminator>', 'only this section (section_discriminator)')
    .option('--history', 'include attribute change history')
    .option('--type-definitions', 'include attribute and event type definitions (metadata)')
    .option('--merged', 'include profiles merged into this one');
}

/** `--section` and at least one `--segment` are required; the rest is checked by the input schema. */
export function apsisSegmentInput(opts: Record<string, unknown>): unknown {
  if (opts.section === undefined) throw new UsageError('--section: required (the section discriminator)');
  const segments = list(opts.segment);
  if (segments.length === 0)
    throw new UsageError('--segment: required (one or more segment discriminators, each optionally <name>=)');
  return {
    section: opts.section,
    segments,
    ...(opts.filter !== undefined ? { filter: opts.filter } : {}),
    attributes: list(opts.attribute),
    tags: list(opts.tag),
    format: opts.format,
  };
}

export function apsisProfileInput(opts: Record<string, unknown>): unknown {
  if (opts.exportKey === undefined) throw new UsageError('--export-key: required (the profile export key)');
  return {
    exportKey: opts.exportKey,
    ...(opts.section !== undefined ? { section: opts.section } : {}),
    history: opts.history === true,
    typeDefinitions: opts.typeDefinitions === true,
    merged: opts.merged === true,
  };
}

function list(value: unknown): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}
