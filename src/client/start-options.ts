import type { SearchAttributePair } from '@temporalio/common';
import type { Timing } from '../shared/inputs';
import { EXPORT_SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import type { WorkflowType } from '../shared/contract';
import { PROVIDER_SPECS, type ParsedInput, type ProviderInput, type SupportedProvider } from '../shared/provider-specs';

/** What Temporal needs to start one export: the same for ExportClient.start and a Schedule's action. */
export interface ExportStartOptions<P extends SupportedProvider> {
  workflowType: WorkflowType;
  taskQueue: string;
  workflowId: string;
  args: [ProviderInput<P>];
  staticSummary: string;
  /** ExportAccount, set at start (not by the workflow), so recorded histories replay unchanged. */
  typedSearchAttributes: SearchAttributePair[];
}

/**
 * Builds an export's start options from a validated input: the provider's workflow type, the caller's input with
 * the poll settings filled in (the input's own `timing` wins), and a one-line summary for the Web UI.
 */
export function exportStartOptions<P extends SupportedProvider>(
  provider: P,
  input: ProviderInput<P>,
  parsed: ParsedInput<P>,
  at: { taskQueue: string; workflowId: string; timing: Timing; summaryNote?: string },
): ExportStartOptions<P> {
  const spec = PROVIDER_SPECS[provider];
  const account = (parsed as { account: string }).account;
  const summary = `${spec.summary(parsed)}${account !== 'default' ? ` [account ${account}]` : ''}`;
  return {
    workflowType: spec.workflowType,
    taskQueue: at.taskQueue,
    workflowId: at.workflowId,
    args: [{ ...input, timing: { ...at.timing, ...(input.timing ?? {}) } }],
    staticSummary: at.summaryNote ? `${summary} (${at.summaryNote})` : summary,
    typedSearchAttributes: [{ key: EXPORT_SEARCH_ATTRIBUTES.account, value: account }],
  };
}
