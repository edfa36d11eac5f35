import type { Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { EXPORT_SEARCH_ATTRIBUTES } from '../shared/search-attributes';

type IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const IVT = temporal.api.enums.v1.IndexedValueType;

/** The SDK's type word -> the server's enum and the word `temporal` / `tcld` take for it. */
const TYPES: Record<string, { indexed: IndexedValueType; cli: string }> = {
  TEXT: { indexed: IVT.INDEXED_VALUE_TYPE_TEXT, cli: 'Text' },
  KEYWORD: { indexed: IVT.INDEXED_VALUE_TYPE_KEYWORD, cli: 'Keyword' },
  INT: { indexed: IVT.INDEXED_VALUE_TYPE_INT, cli: 'Int' },
  DOUBLE: { indexed: IVT.INDEXED_VALUE_TYPE_DOUBLE, cli: 'Double' },
  BOOL: { indexed: IVT.INDEXED_VALUE_TYPE_BOOL, cli: 'Bool' },
  DATETIME: { indexed: IVT.INDEXED_VALUE_TYPE_DATETIME, cli: 'Datetime' },
  KEYWORD_LIST: { indexed: IVT.INDEXED_VALUE_TYPE_KEYWORD_LIST, cli: 'KeywordList' },
};

export interface RequiredSearchAttribute {
  name: string;
  /** As the Temporal CLI and tcld spell it: Keyword, Int, … */
  cliType: string;
  indexed: IndexedValueType;
}

/** exportflow's search attributes, read from src/shared/search-attributes.ts (the one list of them). */
export function requiredSearchAttributes(): RequiredSearchAttribute[] {
  return Object.values(EXPORT_SEARCH_ATTRIBUTES).map((key) => {
    const type = TYPES[key.type];
    if (!type) throw new Error(`search attribute ${key.name}: unsupported type ${key.type}`);
    return { name: key.name, cliType: type.cli, indexed: type.indexed };
  });
}

/** The commands that create the attributes by hand: Temporal CLI (self-hosted, dev server) and tcld (Cloud). */
export function createCommands(
  namespace: string,
  missing: RequiredSearchAttribute[],
): { temporal: string[]; tcld: string } {
  return {
    temporal: missing.map(
      (a) => `temporal operator search-attribute create --namespace ${namespace} --name ${a.name} --type ${a.cliType}`,
    ),
    tcld: `tcld namespace search-attributes add --namespace ${namespace} ${missing
      .map((a) => `--search-attribute "${a.name}=${a.cliType}"`)
      .join(' ')}`,
  };
}

/**
 * The namespace lacks search attributes exportflow sets, and this connection may not add them: every export
 * would fail at its start or first upsert, so the worker refuses to start instead.
 */
export class NamespaceNotReadyError extends Error {
  override name = 'NamespaceNotReadyError';
  constructor(
    readonly namespace: string,
    readonly missing: RequiredSearchAttribute[],
    reason: string,
  ) {
    const commands = createCommands(namespace, missing);
    super(
      [
        `namespace ${namespace} lacks search attributes exportflow needs: ${missing
          .map((a) => `${a.name} (${a.cliType})`)
          .join(', ')}; adding them was refused (${reason}).`,
        'Someone with operator rights must create them, then start the worker again:',
        ...commands.temporal.map((c) => `  ${c}`),
        'On Temporal Cloud (namespace as <name>.<account>):',
        `  ${commands.tcld}`,
      ].join('\n'),
    );
  }
}

type OperatorConnection = Pick<Connection | NativeConnection, 'operatorService'>;

function describeError(err: unknown): string {
  const e = err as { code?: number; details?: string; message?: string };
  const code = typeof e.code === 'number' ? `${GRPC_CODES[e.code] ?? `gRPC ${e.code}`}: ` : '';
  return `${code}${e.details ?? e.message ?? String(err)}`;
}

const GRPC_CODES: Record<number, string> = {
  3: 'INVALID_ARGUMENT',
  7: 'PERMISSION_DENIED',
  12: 'UNIMPLEMENTED',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

/**
 * Makes the namespace ready: registers exportflow's missing search attributes, and returns the names it added
 * (empty when all were there: one list call). Throws NamespaceNotReadyError, naming each missing attribute and
 * the commands that create it, when the cluster refuses to add them (Temporal Cloud, no operator rights).
 * Idempotent; safe to run from every worker at start.
 */
export async function ensureSearchAttributes(connection: OperatorConnection, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = requiredSearchAttributes().filter((a) => !known.has(a.name));
  if (missing.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((a) => [a.name, a.indexed])),
    });
  } catch (err) {
    // Two workers starting together may race; what matters is that the attributes exist afterwards.
    const again = await connection.operatorService.listSearchAttributes({ namespace });
    const still = missing.filter((a) => !(a.name in (again.customAttributes ?? {})));
    if (still.length > 0) throw new NamespaceNotReadyError(namespace, still, describeError(err));
  }
  return missing.map((a) => a.name);
}
