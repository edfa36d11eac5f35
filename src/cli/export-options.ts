import type { Command } from 'commander';
import { InputError, type SupportedProvider } from '../client';
import { UsageError } from './output';

/** CLI flag for each input field, so errors name what the user typed. */
const FLAG_OF_FIELD: Record<string, string> = {
  sourceType: '--source-type',
  sourceId: '--source-id',
  format: '--format',
  filter: '--filter',
  id: '--id',
};

/** Rewrites `sourceId: ...` into `--source-id: ...` in an input error. */
export function inCliTerms(err: InputError): UsageError {
  const message = err.message.replace(
    /(^|; )([A-Za-z]+)((?:\.[A-Za-z0-9_]+)*):/g,
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

/** Declares each provider's options on its `export <provider>` subcommand. */
export function declareProviderOptions(provider: SupportedProvider, cmd: Command): Command {
  switch (provider) {
    case 'altcraft':
      return cmd
        .option('--source-type <type>', 'database or segment')
        .option('--source-id <n>', 'id of the database or segment')
        .option('--format <format>', 'file format (csv)', 'csv')
        .option('--filter <json>', 'profile fields to match, as a JSON object (custom_request)');
  }
}

/** Turns parsed flags into the provider's workflow input (validated afterwards by the shared zod schema). */
export function inputFromOptions(provider: SupportedProvider, opts: Record<string, string | undefined>): unknown {
  switch (provider) {
    case 'altcraft':
      if (opts.sourceType === undefined) throw new UsageError('--source-type: required (database or segment)');
      if (opts.sourceId === undefined) throw new UsageError('--source-id: required (a positive integer)');
      return {
        sourceType: opts.sourceType,
        sourceId: integerOrRaw(opts.sourceId),
        format: opts.format,
        ...(opts.filter !== undefined ? { filter: jsonObject('--filter', opts.filter) } : {}),
      };
  }
}
