import type { Command } from 'commander';
import { InputError, type SupportedProvider } from '../client';
import { UsageError } from './output';
import {
  APSIS_FLAG_OF_FIELD,
  apsisProfileInput,
  apsisSegmentInput,
  declareApsisProfileOptions,
  declareApsisSegmentOptions,
} from './apsis-options';

/** CLI flag for each input field, so errors name what the user typed. */
const FLAG_OF_FIELD: Record<string, string> = {
  sourceType: '--source-type',
  sourceId: '--source-id',
  format: '--format',
  filter: '--filter',
  requireTotal: '--require-total',
  segmentId: '--segment',
  exportId: '--export-id',
  fields: '--fields',
  id: '--id',
  account: '--account',
  ...APSIS_FLAG_OF_FIELD,
};

/**
 * Rewrites `sourceId: ...` into `--source-id: ...` in an input error, and field names the schema's own words
 * mention (camelCase ones only, so plain words such as "format" stay words) into their flags too.
 */
export function inCliTerms(err: InputError): UsageError {
  const message = err.message
    .replace(/\b([a-z]+[A-Z][A-Za-z]*)\b/g, (word: string) => FLAG_OF_FIELD[word] ?? word)
    .replace(
      // A field, then its path within it: `.name` or a quoted `["odd name"]` (see describeIssues).
      /(^|; )([A-Za-z]+)((?:\.[A-Za-z0-9_]+|\["(?:[^"\\]|\\.)*"\])*):/g,
      (whole, sep: string, field: string, rest: string) => {
        const flag = FLAG_OF_FIELD[field];
        return flag ? `${sep}${flag}${rest}:` : whole;
      },
    );
  return new UsageError(message);
}

/** A non-negative integer from a flag, kept as the raw string when it is not one (zod then names the field). */
function integerOrRaw(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  return /^\s*\d{1,15}\s*$/.test(value) ? Number(value) : value;
}

function jsonObject(flag: string, value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new UsageError(
      `${flag}: expected a JSON object such as '{"city":"Berlin"}', got invalid JSON (${(err as Error).message})`,
    );
  }
}

/** Declares each provider's options on its `export <provider>` subcommand, `--account` on every one. */
export function declareProviderOptions(provider: SupportedProvider, cmd: Command): Command {
  return declareOwnOptions(provider, cmd).option(
    '--account <name>',
    'the vendor account to export from (its variables end in __<NAME>, e.g. ALTCRAFT_TOKEN__EU); default: the plain variables',
  );
}

function declareOwnOptions(provider: SupportedProvider, cmd: Command): Command {
  switch (provider) {
    case 'altcraft':
      return cmd
        .option('--source-type <type>', 'database or segment')
        .option('--source-id <n>', 'id of the database or segment')
        .option('--format <format>', 'file format (csv)', 'csv')
        .option('--filter <json>', 'profile fields to match, as a JSON object (custom_request)')
        .option('--require-total', "fail (RowCountMismatch) when the rows stored differ from Altcraft's result.total");
    case 'mytracker':
      return cmd
        .option('--segment <idSegment>', 'id of the segment to export (a new export is requested)')
        .option('--fields <list>', 'comma-separated fields to export (requestFields), with --segment')
        .option('--export-id <idSegmentExport>', 'take over an export that already exists instead of requesting one');
    case 'apsis-segment':
      return declareApsisSegmentOptions(cmd);
    case 'apsis-profile':
      return declareApsisProfileOptions(cmd);
  }
}

/** Turns parsed flags into the provider's workflow input (validated afterwards by the shared zod schema). */
export function inputFromOptions(provider: SupportedProvider, opts: Record<string, string | undefined>): unknown {
  const input = ownInput(provider, opts) as Record<string, unknown>;
  return opts.account !== undefined ? { ...input, account: opts.account } : input;
}

function ownInput(provider: SupportedProvider, opts: Record<string, string | undefined>): unknown {
  switch (provider) {
    case 'altcraft':
      if (opts.sourceType === undefined) throw new UsageError('--source-type: required (database or segment)');
      if (opts.sourceId === undefined) throw new UsageError('--source-id: required (a positive integer)');
      return {
        sourceType: opts.sourceType,
        sourceId: integerOrRaw(opts.sourceId),
        format: opts.format,
        ...(opts.filter !== undefined ? { filter: jsonObject('--filter', opts.filter) } : {}),
        ...((opts.requireTotal as unknown) === true ? { requireTotal: true } : {}),
      };
    case 'mytracker':
      return mytrackerInput(opts);
    case 'apsis-segment':
      return apsisSegmentInput(opts);
    case 'apsis-profile':
      return apsisProfileInput(opts);
  }
}

/** The myTracker flags as input; which combinations are allowed is the input schema's rule (MyTrackerInputSchema). */
function mytrackerInput(opts: Record<string, string | undefined>): unknown {
  const { segment, exportId, fields } = opts;
  return {
    ...(segment !== undefined ? { segmentId: integerOrRaw(segment) } : {}),
    ...(exportId !== undefined ? { exportId: exportId.trim() } : {}),
    ...(fields !== undefined
      ? {
          fields: fields
            .split(',')
            .map((f) => f.trim())
            .filter((f) => f !== ''),
        }
      : {}),
  };
}
