import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes that let operators filter exports in the Temporal Web UI, e.g.
 * `ExportProvider="altcraft" AND ExportPhase="waiting"`. They must be registered on the namespace
 * (`exportflow setup`, the worker at start, or `exportflow dev`) before a workflow sets them.
 */
export const EXPORT_SEARCH_ATTRIBUTES = {
  provider: defineSearchAttributeKey('ExportProvider', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('ExportPhase', SearchAttributeType.KEYWORD),
  remoteId: defineSearchAttributeKey('ExportRemoteId', SearchAttributeType.KEYWORD),
  bytes: defineSearchAttributeKey('ExportBytes', SearchAttributeType.INT),
  /** The vendor account's name (`default` or a named one), set when the export starts: `ExportAccount="eu"`. */
  account: defineSearchAttributeKey('ExportAccount', SearchAttributeType.KEYWORD),
} as const;
