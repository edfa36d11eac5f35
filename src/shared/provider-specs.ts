import type { z } from 'zod';
import { namedSegments } from './apsis-filter';
import { ApsisProfileInputSchema, ApsisSegmentStartSchema } from './apsis-inputs';
import { AltcraftInputSchema, MyTrackerInputSchema } from './inputs';
import { WORKFLOW_TYPES, type WorkflowType } from './contract';

const SCHEMAS = {
  altcraft: AltcraftInputSchema,
  'apsis-segment': ApsisSegmentStartSchema,
  'apsis-profile': ApsisProfileInputSchema,
  mytracker: MyTrackerInputSchema,
} as const;

export type SupportedProvider = keyof typeof SCHEMAS;
/** What a caller passes to start a provider's export. */
export type ProviderInput<P extends SupportedProvider> = z.input<(typeof SCHEMAS)[P]>;
/** That input once its schema has read it (defaults filled in). */
export type ParsedInput<P extends SupportedProvider> = z.output<(typeof SCHEMAS)[P]>;

/** One provider's entry; typed per provider so `PROVIDER_SPECS[p].describe(parsed)` needs no cast. */
export interface ProviderSpec<P extends SupportedProvider> {
  workflowType: WorkflowType;
  schema: (typeof SCHEMAS)[P];
  /** A short description of what an input exports, used in workflow ids. */
  describe: (input: ParsedInput<P>) => string;
  /** One line for the Web UI's summary. */
  summary: (input: ParsedInput<P>) => string;
}

/**
 * Per provider: the workflow type other services start, the input schema, and a short description of what an
 * input exports (used in workflow ids and the Web UI summary). Providers are added here as they land.
 */
export const PROVIDER_SPECS: { [P in SupportedProvider]: ProviderSpec<P> } = {
  altcraft: {
    workflowType: WORKFLOW_TYPES.altcraft,
    schema: SCHEMAS.altcraft,
    describe: (i: z.output<typeof AltcraftInputSchema>) => `${i.sourceType}-${i.sourceId}`,
    summary: (i: z.output<typeof AltcraftInputSchema>) =>
      `Altcraft ${i.sourceType} ${i.sourceId} profiles as ${i.format}${i.filter ? ' (filtered)' : ''}`,
  },
  'apsis-segment': {
    workflowType: WORKFLOW_TYPES['apsis-segment'],
    schema: SCHEMAS['apsis-segment'],
    describe: (i: z.output<typeof ApsisSegmentStartSchema>) =>
      `${i.section}-${namedSegments(i.segments)
        .map((s) => s.discriminator)
        .join('-')}`,
    summary: (i: z.output<typeof ApsisSegmentStartSchema>) =>
      `APSIS One profiles in segment${i.segments.length > 1 ? 's' : ''} ${i.segments.join(', ')} of section ${i.section} as ${i.format}` +
      `${i.attributes.length + i.tags.length > 0 ? ` (${i.attributes.length} attributes, ${i.tags.length} tags)` : ''}${i.filter ? ' (filtered)' : ''}`,
  },
  // The export key (often an e-mail address) stays out of the workflow id and summary.
  'apsis-profile': {
    workflowType: WORKFLOW_TYPES['apsis-profile'],
    schema: SCHEMAS['apsis-profile'],
    describe: (i: z.output<typeof ApsisProfileInputSchema>) => (i.section ? `profile-${i.section}` : 'profile'),
    summary: (i: z.output<typeof ApsisProfileInputSchema>) =>
      `APSIS One single-profile export${i.section ? ` from section ${i.section}` : ''}` +
      `${i.history ? ', with attribute history' : ''}${i.typeDefinitions ? ', with type definitions' : ''}${i.merged ? ', with merged profiles' : ''}`,
  },
  mytracker: {
    workflowType: WORKFLOW_TYPES.mytracker,
    schema: SCHEMAS.mytracker,
    describe: (i: z.output<typeof MyTrackerInputSchema>) =>
      i.exportId !== undefined ? `export-${i.exportId}` : `segment-${i.segmentId}`,
    summary: (i: z.output<typeof MyTrackerInputSchema>) =>
      i.exportId !== undefined
        ? `myTracker existing segment export ${i.exportId}`
        : `myTracker segment ${i.segmentId}${i.fields ? ` (${i.fields.length} fields)` : ''} as csv.gz`,
  },
};

export function isSupportedProvider(name: string): name is SupportedProvider {
  return Object.prototype.hasOwnProperty.call(PROVIDER_SPECS, name);
}
