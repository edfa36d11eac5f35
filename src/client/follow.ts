import type { Client } from '@temporalio/client';
import { decodeOptionalSinglePayload } from '@temporalio/common/lib/internal-non-workflow';
import type { temporal } from '@temporalio/proto';
import { EXPORT_SEARCH_ATTRIBUTES as SA } from '../shared/search-attributes';
import { PHASES, type ExportProgress, type Phase } from '../shared/manifest';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

/**
 * Following a running export without paying for it. Temporal bills every query (and the Web UI's stack view),
 * not history reads or DescribeWorkflowExecution. So a follower asks the `progress` query once at the start and
 * once when downloads begin (for the file count), and learns everything else from the history, long-polled with
 * wait-for-new-event: a status poll's result is an ActivityTaskCompleted event (vendor status and percent), a
 * phase change is a search-attribute upsert, a stored file is a download activity's result, and the bytes of a
 * download in flight are its pending activity's heartbeat details, which `describe` returns.
 */

/** Activities whose result is one status poll's answer (src/shared/job-poll.ts and the APSIS segment poll). */
const STATUS_ACTIVITIES = new Set(['altcraftTaskStatus', 'mytrackerExportStatus', 'apsisPollSegmentReport']);
/** Activities whose result is a stored file (ManifestFile). */
const DOWNLOAD_ACTIVITIES = new Set(['altcraftDownload', 'mytrackerDownload', 'apsisDownloadProfile']);
/** How often in-flight download bytes are read (describe, not billed) while the phase is `downloading`. */
const DESCRIBE_EVERY_MS = 2000;

export interface FollowUpdate {
  progress: ExportProgress;
  /** Bytes of files still downloading, from the pending download activities' heartbeat details. */
  inFlightBytes: number;
}

export interface FollowOptions {
  signal?: AbortSignal;
  /** The `progress` query (a billable action); called at the start and when downloads begin. */
  query: () => Promise<ExportProgress | null>;
  /** Bytes of downloads in flight (describe; not billed). */
  inFlightBytes: () => Promise<number>;
  onUpdate: (update: FollowUpdate) => void;
}

/** What a follow cost: the queries it sent (the only billable calls it makes). */
export interface FollowReport {
  queries: number;
}

/**
 * Follows the export's runs (continue-as-new included) until its last run closes or `signal` aborts. Updates
 * arrive within the long poll's latency of the event (well under a second on a healthy server).
 */
export async function followExport(client: Client, workflowId: string, opts: FollowOptions): Promise<FollowReport> {
  const report = { queries: 0 };
  const query = async (): Promise<ExportProgress | null> => {
    report.queries += 1;
    return opts.query();
  };
  let progress = await query();
  let inFlight = 0;
  if (!progress) return report;
  const emit = () => opts.onUpdate({ progress: { ...progress! }, inFlightBytes: inFlight });
  emit();

  // Bytes in flight, by describe, only while downloading.
  let describing: NodeJS.Timeout | undefined;
  const describeLoop = async () => {
    describing = undefined;
    if (opts.signal?.aborted || progress?.phase !== 'downloading') return;
    const bytes = await opts.inFlightBytes().catch(() => inFlight);
    if (bytes !== inFlight) {
      inFlight = bytes;
      emit();
    }
    describing = setTimeout(() => void describeLoop(), DESCRIBE_EVERY_MS);
  };

  const converter = client.options.loadedDataConverter;
  const decode = async <T>(payload: Payload | undefined): Promise<T | undefined> =>
    payload
      ? ((await decodeOptionalSinglePayload<T>(converter, payload).catch(() => undefined)) ?? undefined)
      : undefined;

  const baseline = await client.workflow.getHandle(workflowId).describe();
  let runId: string | undefined = baseline.runId;
  let skipThrough = baseline.historyLength;
  try {
    while (runId && !opts.signal?.aborted) {
      const types = new Map<string, string>();
      let pageToken: Uint8Array | undefined;
      let next: string | undefined;
      let closed = false;
      do {
        const page = await longPoll(client, workflowId, runId, pageToken, opts.signal);
        pageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
        for (const e of page.history?.events ?? []) {
          const id = Number(e.eventId ?? 0);
          const scheduled = e.activityTaskScheduledEventAttributes;
          if (scheduled) types.set(String(e.eventId), scheduled.activityType?.name ?? '');
          if (id <= skipThrough) continue;
          const before = progress.phase;
          const changed = await apply(e, types, progress, decode);
          if (progress.phase === 'downloading' && before !== 'downloading') {
            // The file count is only in the workflow's state: one query, then bytes from describe.
            progress = (await query()) ?? progress;
            void describeLoop();
          }
          if (changed) emit();
          const continued = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
          if (continued) next = continued;
          if (isClose(e)) closed = true;
        }
      } while (pageToken && !closed && !opts.signal?.aborted);
      runId = next;
      skipThrough = 1; // a new run: everything after its start event is news
    }
  } finally {
    if (describing) clearTimeout(describing);
  }
  return report;
}

async function longPoll(
  client: Client,
  workflowId: string,
  runId: string,
  nextPageToken: Uint8Array | undefined,
  signal: AbortSignal | undefined,
): Promise<temporal.api.workflowservice.v1.IGetWorkflowExecutionHistoryResponse> {
  const call = () =>
    client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      nextPageToken,
      waitNewEvent: true,
    });
  if (!signal) return call();
  // A controller per call: withAbortSignal leaves its listener on the signal it is given, so a day of long polls
  // on the caller's one signal would pile up thousands of listeners.
  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await client.withAbortSignal(ctrl.signal, call);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function isClose(e: HistoryEvent): boolean {
  return !!(
    e.workflowExecutionCompletedEventAttributes ||
    e.workflowExecutionFailedEventAttributes ||
    e.workflowExecutionCanceledEventAttributes ||
    e.workflowExecutionTerminatedEventAttributes ||
    e.workflowExecutionTimedOutEventAttributes ||
    e.workflowExecutionContinuedAsNewEventAttributes
  );
}

/** Folds one history event into `progress`; true when something a user sees changed. */
async function apply(
  e: HistoryEvent,
  types: Map<string, string>,
  progress: ExportProgress,
  decode: <T>(payload: Payload | undefined) => Promise<T | undefined>,
): Promise<boolean> {
  const now = () => (progress.updatedAt = new Date().toISOString());
  const upsert = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
  if (upsert) {
    let changed = false;
    const phase = searchValue(upsert[SA.phase.name]);
    if (typeof phase === 'string' && (PHASES as readonly string[]).includes(phase) && phase !== progress.phase) {
      // A job created (creating -> waiting) is one more request to the vendor.
      if (progress.phase === 'creating' && phase === 'waiting') progress.attempts += 1;
      if (phase === 'creating') Object.assign(progress, { vendorStatus: null, vendorPercent: null });
      progress.phase = phase as Phase;
      changed = true;
    }
    const remoteId = searchValue(upsert[SA.remoteId.name]);
    if (typeof remoteId === 'string' && remoteId !== progress.remoteId) {
      progress.remoteId = remoteId;
      changed = true;
    }
    if (changed) now();
    return changed;
  }
  const completed = e.activityTaskCompletedEventAttributes;
  if (!completed) return false;
  const type = types.get(String(completed.scheduledEventId ?? '')) ?? '';
  if (STATUS_ACTIVITIES.has(type)) {
    const answer = await decode<{ state?: string; status?: string | number; progress?: number | null }>(
      completed.result?.payloads?.[0],
    );
    if (!answer || answer.state === 'done' || answer.state === 'stored') return false;
    progress.polls += 1;
    progress.vendorStatus =
      answer.state === 'notReady'
        ? `not ready (HTTP ${answer.status})`
        : String(answer.status ?? progress.vendorStatus);
    if (typeof answer.progress === 'number') progress.vendorPercent = answer.progress;
    now();
    return true;
  }
  if (DOWNLOAD_ACTIVITIES.has(type)) {
    const file = await decode<{ bytes?: number }>(completed.result?.payloads?.[0]);
    progress.filesDone += 1;
    progress.bytesDone += typeof file?.bytes === 'number' ? file.bytes : 0;
    now();
    return true;
  }
  return false;
}

/** A search attribute's value as the server stores it (JSON in the payload's data). */
function searchValue(payload: Payload | undefined): unknown {
  if (!payload?.data) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(payload.data).toString('utf8'));
    return Array.isArray(value) ? value[0] : value;
  } catch {
    return undefined;
  }
}
