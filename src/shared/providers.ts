import type { z } from 'zod';
import { namedSegments } from './apsis-filter';
import { ApsisProfileInputSchema, ApsisSegmentStartSchema } from './apsis-inputs';
import { AltcraftInputSchema, MyTrackerInputSchema } from './inputs';
import type { Provider } from './manifest';

/**
 * Per provider: the workflow type other services start, the input schema, and a short description of what an
 * input exports (used in workflow ids and the Web UI summary). Providers are added here as they land.
 */
export const PROVIDER_SPECS = {
  altcraft: {
    workflowType: 'altcraftExport',
    schema: AltcraftInputSchema,
    describe: (i: z.output<typeof AltcraftInputSchema>) => `${i.sourceType}-${i.sourceId}`,
    summary: (i: z.output<typeof AltcraftInputSchema>) =>
      `Altcraft ${i.sourceType} ${i.sourceId} profiles as ${i.format}${i.filter ? ' (filtered)' : ''}`,
  },
  'apsis-segment': {
    workflowType: 'apsisSegmentExport',
    schema: ApsisSegmentStartSchema,
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
    workflowType: 'apsisProfileExport',
    schema: ApsisProfileInputSchema,
    describe: (i: z.output<typeof ApsisProfileInputSchema>) => (i.section ? `profile-${i.section}` : 'profile'),
    summary: (i: z.output<typeof ApsisProfileInputSchema>) =>
      `APSIS One single-profile export${i.section ? ` from section ${i.section}` : ''}` +
      `${i.history ? ', with attribute history' : ''}${i.typeDefinitions ? ', with type definitions' : ''}${i.merged ? ', with merged profiles' : ''}`,
  },
  mytracker: {
    workflowType: 'mytrackerExport',
    schema: MyTrackerInputSchema,
    describe: (i: z.output<typeof MyTrackerInputSchema>) =>
      i.exportId !== undefined ? `export-${i.exportId}` : `segment-${i.segmentId}`,
    summary: (i: z.output<typeof MyTrackerInputSchema>) =>
      i.exportId !== undefined
        ? `myTracker existing segment export ${i.exportId}`
        : `myTracker segment ${i.segmentId}${i.fields ? ` (${i.fields.length} fields)` : ''} as csv.gz`,
  },
} as const;

export type SupportedProvider = keyof typeof PROVIDER_SPECS & Provider;
export type ProviderInput<P extends SupportedProvider> = z.input<(typeof PROVIDER_SPECS)[P]['schema']>;

export function isSupportedProvider(name: string): name is SupportedProvider {
  return Object.prototype.hasOwnProperty.call(PROVIDER_SPECS, name);
}
