import type { z } from 'zod';
import { AltcraftInputSchema } from './inputs';
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
} as const;

export type SupportedProvider = keyof typeof PROVIDER_SPECS & Provider;
export type ProviderInput<P extends SupportedProvider> = z.input<(typeof PROVIDER_SPECS)[P]['schema']>;

export function isSupportedProvider(name: string): name is SupportedProvider {
  return Object.prototype.hasOwnProperty.call(PROVIDER_SPECS, name);
}
