import type { ExportClient } from '../../src/client';
import type { ProviderInput, SupportedProvider } from '../../src/shared/provider-specs';

/**
 * A provider with an input for it, as `ExportClient.start(provider, input)` takes them: a union over providers, so
 * a list of exports of several providers keeps each input paired with (and checked against) its own provider.
 */
export type ExportRequest<P extends SupportedProvider = SupportedProvider> = {
  [Q in P]: { provider: Q; input: ProviderInput<Q> };
}[P];

/** One provider's export request; the input is checked against that provider's schema type. */
export function exportRequest<P extends SupportedProvider>(provider: P, input: ProviderInput<P>): ExportRequest<P> {
  return { provider, input };
}

/**
 * Starts an export with an input the types would refuse, for tests of what `start` does with malformed input at
 * run time (JavaScript callers and JSON reach it unchecked). The one way a test passes an input that is not a
 * ProviderInput; the start must reject it.
 */
export function startUnchecked(
  client: ExportClient,
  provider: SupportedProvider,
  input: unknown,
  options: { workflowId?: string } = {},
): ReturnType<ExportClient['start']> {
  // Deliberately unchecked: malformed on purpose, which is what the caller tests.
  return client.start(provider, input as ProviderInput<SupportedProvider>, options);
}
