import type { Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { EXPORT_SEARCH_ATTRIBUTES } from './shared/search-attributes';

const INDEXED_TYPE = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
} as const;

/**
 * Registers exportflow's search attributes on the namespace when they are missing. Returns the names it added.
 * Idempotent; safe to run from every worker at start.
 */
export async function ensureSearchAttributes(
  connection: Pick<Connection | NativeConnection, 'operatorService'>,
  namespace: string,
): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
  for (const key of Object.values(EXPORT_SEARCH_ATTRIBUTES)) {
    if (!known.has(key.name)) missing[key.name] = INDEXED_TYPE[key.type as keyof typeof INDEXED_TYPE];
  }
  const names = Object.keys(missing);
  if (names.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  } catch (err) {
    // Two workers starting together may race; what matters is that the attributes exist afterwards.
    const again = await connection.operatorService.listSearchAttributes({ namespace });
    if (!names.every((n) => n in (again.customAttributes ?? {}))) throw err;
  }
  return names;
}
