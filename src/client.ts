import { randomBytes } from 'node:crypto';
import {
  ApplicationFailure,
  CancelledFailure,
  Client,
  Connection,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type ConnectionOptions,
  type WorkflowExecutionStatusName,
} from '@temporalio/client';
import { decodeOptionalSinglePayload } from '@temporalio/common/lib/internal-non-workflow';
import { readConfig, type Config } from './config';
import { connectTemporal, explainConnectError } from './temporal/connect';
import { exportflowDataConverter } from './temporal/data-converter';
import { EXPORT_SEARCH_ATTRIBUTES } from './shared/search-attributes';
import { describeIssues, protoKeyPath, type Timing } from './shared/inputs';
import type { ExportManifest, ExportProgress } from './shared/manifest';
import {
  PROVIDER_SPECS,
  isSupportedProvider,
  type ParsedInput,
  type ProviderInput,
  type SupportedProvider,
} from './shared/provider-specs';
import { progressQuery } from './shared/contract';
import { ACCOUNTS_WORKFLOW_TYPE, type AccountsReport } from './shared/accounts';
import { exportStartOptions } from './client/start-options';
import { clientTracingInterceptors } from './telemetry';
import { followExport, type FollowReport, type FollowUpdate } from './client/follow';
import { countExportActions } from './shared/temporal-actions';

export type { ExportManifest, ExportProgress, ManifestFile, Provider } from './shared/manifest';
/** ExportFailedError.type of an export whose rows differed from the vendor's count under `requireTotal`. */
export { ROW_COUNT_MISMATCH } from './shared/manifest';
export { PROVIDER_SPECS } from './shared/provider-specs';
export type { SupportedProvider, ProviderInput } from './shared/provider-specs';
export type { AccountsReport, AccountReport, AccountCheck } from './shared/accounts';
export type { FollowReport, FollowUpdate } from './client/follow';

/** Bad input, rejected before anything starts. The message names the field. */
export class InputError extends Error {
  override name = 'InputError';
}

/** How an export ended when it did not complete. */
export class ExportFailedError extends Error {
  override name = 'ExportFailedError';
  constructor(
    readonly workflowId: string,
    readonly status: 'failed' | 'cancelled',
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ExportStatus {
  workflowId: string;
  /** Temporal's view: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, CONTINUED_AS_NEW. */
  execution: WorkflowExecutionStatusName;
  progress: ExportProgress | null;
  /** Bytes of files still being downloaded, from the download activities' heartbeats. */
  inFlightBytes: number;
  manifest: ExportManifest | null;
  error: { type: string; message: string } | null;
  /**
   * What the export has cost so far in Temporal billable actions, as its history shows them (the manifest's
   * `temporal.actions` once it completed); read from the history, which costs no action.
   */
  temporal: { actions: number } | null;
}

export interface ExportListing {
  workflowId: string;
  execution: WorkflowExecutionStatusName;
  provider: string | null;
  /** The vendor account (ExportAccount); null for exports started before accounts existed. */
  account: string | null;
  phase: string | null;
  remoteId: string | null;
  bytes: number | null;
  startedAt: string;
  closedAt: string | null;
}

export interface ExportClientOptions {
  /** Overrides the address from Temporal's environment configuration (TEMPORAL_ADDRESS, profile). */
  address?: string;
  namespace?: string;
  /** An existing connection to use (the caller keeps ownership and closes it). */
  connection?: Connection;
  /** Full connection options (TLS, API key, metadata) instead of the environment configuration. */
  connectionOptions?: ConnectionOptions;
  taskQueue?: string;
  /** Poll and wait settings put into each export's input; defaults come from the environment. */
  timing?: Timing;
}

const WORKFLOW_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@+=-]{0,199}$/;
/** Input fields only the workflows themselves set (continue-as-new carry-over). */
const INTERNAL_FIELDS = ['carryOver', 'report'] as const;

/**
 * Typed access to exportflow for other services: start exports, follow them, read results, cancel them.
 * Inputs are validated with the same zod schemas the workflows use, before anything reaches Temporal.
 */
export class ExportClient {
  private constructor(
    readonly temporal: Client,
    private readonly connection: Connection | undefined,
    readonly taskQueue: string,
    private readonly timing: Timing,
  ) {}

  /**
   * Connects with Temporal's environment configuration (TEMPORAL_ADDRESS, TLS, API key, profiles), the payload
   * codec of EXPORTFLOW_CODEC_KEYS and EXPORTFLOW_TASK_QUEUE, unless told otherwise. A refused connection is a
   * TemporalConnectError saying why.
   */
  static async connect(options: ExportClientOptions = {}, config: Config = readConfig()): Promise<ExportClient> {
    const settings = {
      ...config.temporal,
      ...(options.address !== undefined ? { address: options.address } : {}),
      ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    };
    let connection: Connection;
    let owned: Connection | undefined;
    if (options.connection) connection = options.connection;
    else if (options.connectionOptions) {
      connection = owned = await Connection.connect(options.connectionOptions).catch((err: unknown) => {
        throw explainConnectError(err, {
          ...settings,
          address: options.connectionOptions?.address ?? settings.address,
        });
      });
    } else connection = owned = await connectTemporal(settings);
    const client = new Client({
      connection,
      namespace: settings.namespace,
      dataConverter: exportflowDataConverter(config.codecKeys),
      // Spans around starts, signals and queries in the active context (a host's, TRACEPARENT's), when tracing.
      interceptors: { workflow: clientTracingInterceptors() },
    });
    const timing: Timing = options.timing ?? {
      pollInitialMs: config.timing.pollInitialMs,
      pollMaxMs: config.timing.pollMaxMs,
      maxWaitMs: config.timing.maxWaitMs,
      heartbeatTimeoutMs: config.timing.heartbeatTimeoutMs,
    };
    return new ExportClient(client, owned, options.taskQueue ?? config.taskQueue, timing);
  }

  /** Wraps an existing Temporal client (the caller keeps ownership of its connection). */
  static fromClient(client: Client, taskQueue = 'exportflow', timing: Timing = {}): ExportClient {
    return new ExportClient(client, undefined, taskQueue, timing);
  }

  /** Validates an input for a provider and returns it parsed; throws InputError naming the field. */
  static validate<P extends SupportedProvider>(provider: P, input: unknown): ParsedInput<P> {
    if (!isSupportedProvider(provider)) throw new InputError(`provider: unknown provider "${String(provider)}"`);
    // State a running export carries into its next run; from a caller it would skip or fake the vendor job.
    for (const internal of INTERNAL_FIELDS) {
      if (typeof input === 'object' && input !== null && internal in input) {
        throw new InputError(`${internal}: set by exportflow itself when an export continues; not accepted as input`);
      }
    }
    const proto = protoKeyPath(input);
    if (proto) throw new InputError(`${proto}: "__proto__" is not accepted as a field name`);
    const parsed = PROVIDER_SPECS[provider].schema.safeParse(input);
    if (!parsed.success) throw new InputError(describeIssues(parsed.error));
    // zod types safeParse over the union of schemas; the one it ran is P's.
    return parsed.data as ParsedInput<P>;
  }

  /** Validates an input (as `validate`) and returns it as given, typed for `start` and schedules. */
  static checkInput<P extends SupportedProvider>(provider: P, input: unknown): ProviderInput<P> {
    ExportClient.validate(provider, input);
    return input as ProviderInput<P>;
  }

  /** Checks a caller-chosen workflow id; throws InputError naming `id`. */
  static validateWorkflowId(workflowId: string): void {
    if (!WORKFLOW_ID_PATTERN.test(workflowId)) {
      throw new InputError(
        'id: a workflow id is 1-200 characters of letters, digits and ._:@+=- and starts with a letter or digit',
      );
    }
  }

  /**
   * Starts an export and returns its workflow id. With a caller-chosen `workflowId`, starting twice is
   * idempotent: the second call returns the existing export instead of creating a second vendor job.
   */
  async start<P extends SupportedProvider>(
    provider: P,
    input: ProviderInput<P>,
    options: { workflowId?: string } = {},
  ): Promise<{ workflowId: string; runId: string | undefined; existing: boolean }> {
    const parsed = ExportClient.validate(provider, input);
    if (options.workflowId !== undefined) ExportClient.validateWorkflowId(options.workflowId);
    // A named account is part of the default id (`export-altcraft-eu-database-1-...`), so ids tell accounts apart.
    const account = (parsed as { account: string }).account;
    const what = PROVIDER_SPECS[provider].describe(parsed);
    const workflowId =
      options.workflowId ?? defaultWorkflowId(provider, account === 'default' ? what : `${account}-${what}`);
    const { workflowType, ...start } = exportStartOptions(provider, input, parsed, {
      taskQueue: this.taskQueue,
      workflowId,
      timing: this.timing,
    });
    try {
      const handle = await this.temporal.workflow.start(workflowType, {
        ...start,
        // The default conflict policy (fail) plus no reuse makes a repeated id land in the catch below, whether
        // the first export is still running or already closed: the caller gets that export, not a second job.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      return { workflowId, runId: handle.firstExecutionRunId, existing: false };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, runId: undefined, existing: true };
      throw err;
    }
  }

  /** Waits for the export to end; resolves with its manifest or rejects with ExportFailedError. */
  async result(workflowId: string): Promise<ExportManifest> {
    try {
      return (await this.temporal.workflow.getHandle(workflowId).result()) as ExportManifest;
    } catch (err) {
      throw toExportFailed(workflowId, err);
    }
  }

  /**
   * Phase, vendor progress and bytes so far; for a finished export, its manifest or error. A running export's
   * progress comes from the `progress` query: one billable action per call (follow() costs far less).
   */
  async status(workflowId: string): Promise<ExportStatus> {
    const handle = this.temporal.workflow.getHandle(workflowId);
    const description = await handle.describe();
    const execution = description.status.name;
    const status: ExportStatus = {
      workflowId,
      execution,
      progress: null,
      inFlightBytes: 0,
      manifest: null,
      error: null,
      temporal: null,
    };
    if (execution === 'RUNNING') {
      status.progress = await handle.query(progressQuery).catch(() => null);
      status.inFlightBytes = await this.inFlightBytesOf(description.raw.pendingActivities ?? []);
    } else if (execution === 'COMPLETED') {
      status.manifest = await this.result(workflowId);
    } else {
      try {
        await this.result(workflowId);
      } catch (err) {
        if (err instanceof ExportFailedError) status.error = { type: err.type, message: err.message };
      }
    }
    const counted = status.manifest?.temporal?.actions;
    status.temporal = { actions: counted ?? (await this.actions(workflowId)) };
    return status;
  }

  /** Temporal billable actions the export's history shows so far, every run of it (history reads cost none). */
  async actions(workflowId: string): Promise<number> {
    return countExportActions(async (runId) => {
      const history = await this.temporal.workflow.getHandle(workflowId, runId).fetchHistory();
      return history.events ?? [];
    });
  }

  /**
   * Follows a running export until it ends (or `signal` aborts), calling `onUpdate` with its progress when
   * something changes: at about two billable actions per export instead of one query per look. See
   * src/client/follow.ts. Resolves with the number of `progress` queries sent.
   */
  async follow(
    workflowId: string,
    onUpdate: (update: FollowUpdate) => void,
    signal?: AbortSignal,
  ): Promise<FollowReport> {
    const handle = this.temporal.workflow.getHandle(workflowId);
    return followExport(this.temporal, workflowId, {
      signal,
      onUpdate,
      query: () => handle.query(progressQuery).catch(() => null),
      inFlightBytes: async () => this.inFlightBytesOf((await handle.describe()).raw.pendingActivities ?? []),
    });
  }

  /** Bytes of downloads in flight, from the pending activities' heartbeat details (resume points). */
  private async inFlightBytesOf(
    pending: { heartbeatDetails?: { payloads?: Parameters<typeof decodeOptionalSinglePayload>[1][] | null } | null }[],
  ): Promise<number> {
    let bytes = 0;
    for (const activity of pending) {
      const payload = activity.heartbeatDetails?.payloads?.[0];
      if (!payload) continue;
      // Heartbeats go through the codec like every payload (encrypted when EXPORTFLOW_CODEC_KEYS is set).
      const point = await decodeOptionalSinglePayload<{ offset?: number }>(
        this.temporal.options.loadedDataConverter,
        payload,
      ).catch(() => undefined);
      if (typeof point?.offset === 'number') bytes += point.offset;
    }
    return bytes;
  }

  /**
   * Recent exports from Temporal visibility, newest first, optionally filtered by provider and phase (the
   * ExportProvider/ExportPhase search attributes operators use in the Web UI).
   */
  async list(
    filter: { provider?: string; phase?: string; account?: string; limit?: number } = {},
  ): Promise<ExportListing[]> {
    const clauses = [`TaskQueue="${this.taskQueue}"`];
    const quote = (v: string) => `"${v.replace(/["\\]/g, '')}"`;
    if (filter.provider) clauses.push(`ExportProvider=${quote(filter.provider)}`);
    if (filter.phase) clauses.push(`ExportPhase=${quote(filter.phase)}`);
    if (filter.account) clauses.push(`ExportAccount=${quote(filter.account.toLowerCase())}`);
    const limit = Math.min(Math.max(filter.limit ?? 20, 1), 1000);
    const out: ExportListing[] = [];
    for await (const wf of this.temporal.workflow.list({
      query: clauses.join(' AND '),
      pageSize: Math.min(limit, 100),
    })) {
      const sa = wf.typedSearchAttributes;
      out.push({
        workflowId: wf.workflowId,
        execution: wf.status.name,
        provider: sa.get(EXPORT_SEARCH_ATTRIBUTES.provider) ?? null,
        account: sa.get(EXPORT_SEARCH_ATTRIBUTES.account) ?? null,
        phase: sa.get(EXPORT_SEARCH_ATTRIBUTES.phase) ?? null,
        remoteId: sa.get(EXPORT_SEARCH_ATTRIBUTES.remoteId) ?? null,
        bytes: sa.get(EXPORT_SEARCH_ATTRIBUTES.bytes) ?? null,
        startedAt: wf.startTime.toISOString(),
        closedAt: wf.closeTime?.toISOString() ?? null,
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * The vendor accounts a worker has credentials for and, with `check`, whether each works (one cheap
   * authenticated call each). Answered by a worker through a short workflow, so the caller needs no secrets.
   */
  async accounts(options: { check?: boolean; timeoutMs?: number } = {}): Promise<AccountsReport> {
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    return (await this.temporal.workflow.execute(ACCOUNTS_WORKFLOW_TYPE, {
      taskQueue: this.taskQueue,
      workflowId: `accounts-check-${stamp}-${randomBytes(3).toString('hex')}`,
      args: [{ check: options.check === true }],
      // No worker means no answer: bounded, so the CLI says so instead of waiting forever.
      workflowExecutionTimeout: options.timeoutMs ?? 90_000,
    })) as AccountsReport;
  }

  /** Cancels an export; the workflow removes its partial files before it ends. */
  async cancel(workflowId: string): Promise<void> {
    await this.temporal.workflow.getHandle(workflowId).cancel();
  }

  async close(): Promise<void> {
    await this.connection?.close();
  }
}

/** `export-altcraft-database-1-20261124T213000Z-1a2b3c`: readable in the Web UI and unique. */
export function defaultWorkflowId(provider: SupportedProvider, what: string): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const safe = what.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60);
  return `export-${provider}-${safe}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Digs the user-facing reason out of Temporal's failure wrappers. */
export function toExportFailed(workflowId: string, err: unknown): unknown {
  if (err instanceof WorkflowNotFoundError) return err;
  if (!(err instanceof WorkflowFailedError)) return err;
  let cause: unknown = err.cause;
  while (cause instanceof Error && (cause as { cause?: unknown }).cause && !(cause instanceof ApplicationFailure)) {
    cause = (cause as { cause?: unknown }).cause;
  }
  if (err.cause instanceof CancelledFailure || cause instanceof CancelledFailure) {
    return new ExportFailedError(workflowId, 'cancelled', 'Cancelled', 'the export was cancelled');
  }
  if (err.cause instanceof TerminatedFailure) {
    return new ExportFailedError(workflowId, 'failed', 'Terminated', 'the export was terminated by an operator');
  }
  if (cause instanceof ApplicationFailure) {
    return new ExportFailedError(workflowId, 'failed', cause.type ?? 'Error', cause.message);
  }
  if (cause instanceof TimeoutFailure) {
    return new ExportFailedError(workflowId, 'failed', 'Timeout', cause.message);
  }
  return new ExportFailedError(workflowId, 'failed', 'Error', (cause as Error)?.message ?? err.message);
}
