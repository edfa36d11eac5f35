import { FAILURE_TYPES } from '../../shared/failure-types';
import { ClassifiedError, snippet, where } from '../errors';
import { callVendor, checkShape, parseVendorJson } from '../http';
import {
  ALTCRAFT_PATHS,
  ALTCRAFT_TARIFF_LIMIT,
  ALTCRAFT_TOKEN_PARAM,
  altcraftStatusMeaning,
  type AltcraftTokenForm,
} from './constants';
import type { JobDone, JobRunning } from '../../shared/job-poll';
import { AltcraftCreateData, AltcraftEnvelope, AltcraftStatusData, type AltcraftCreateRequest } from './schemas';

export interface AltcraftCredentials {
  baseUrl: string;
  token: string;
  /** The account's name, for metrics labels only (absent = `default`). */
  account?: string;
}

export type AltcraftTaskState =
  /** `known` is false for a word no page or table lists: still running, but worth one log line. */
  (JobRunning & { known: boolean }) | JobDone<{ urls: string[]; total: number | null }>;

/** A small Altcraft API client: create a profiles export, read its task status, address its files. */
export class AltcraftClient {
  constructor(private readonly creds: AltcraftCredentials) {}

  /** Asks Altcraft for a profiles export and returns its task id. */
  async createExport(req: AltcraftCreateRequest, signal?: AbortSignal): Promise<string> {
    const data = await this.call('profiles/get_all', ALTCRAFT_PATHS.createExport, { ...req }, signal);
    return checkShape('altcraft', 'profiles/get_all', data, AltcraftCreateData).task_id;
  }

  /** Reads a task's state; a failed task throws a final ClassifiedError, an undocumented word reads as running. */
  async taskStatus(taskId: string, signal?: AbortSignal): Promise<AltcraftTaskState> {
    const raw = await this.call('tasks/status', ALTCRAFT_PATHS.taskStatus, { task_id: taskId }, signal);
    const data = checkShape('altcraft', 'tasks/status', raw, AltcraftStatusData);
    return interpretStatus(taskId, data);
  }

  /**
   * The absolute URL and credentials for one of a finished task's `urls` (relative to the panel), with the token
   * in the chosen form. With `query` the URL itself is a credential: log or show it only through redactUrl.
   */
  downloadTarget(url: string, form: AltcraftTokenForm = 'bearer'): { url: string; headers: Record<string, string> } {
    const absolute = resolveDownloadUrl(this.creds.baseUrl, url);
    if (form === 'bearer') return { url: absolute, headers: { authorization: `Bearer ${this.creds.token}` } };
    const target = new URL(absolute);
    target.searchParams.set(ALTCRAFT_TOKEN_PARAM, this.creds.token);
    return { url: target.toString(), headers: {} };
  }

  private async call(endpoint: string, path: string, body: object, signal?: AbortSignal): Promise<unknown> {
    const answer = await callVendor({
      vendor: 'altcraft',
      account: this.creds.account,
      endpoint,
      method: 'POST',
      url: this.creds.baseUrl + path,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ token: this.creds.token, ...body }),
      accept: [ALTCRAFT_TARIFF_LIMIT.code],
      signal,
    });
    if (answer.status === ALTCRAFT_TARIFF_LIMIT.code) throw tariffLimitReached(endpoint, bodyErrorText(answer.text));
    const envelope = parseVendorJson('altcraft', endpoint, answer, AltcraftEnvelope);
    if (envelope.error !== 0) throw altcraftBodyError(endpoint, envelope.error, envelope.error_text);
    return envelope.data;
  }
}

/**
 * Interprets a task status with the status table in constants.ts. Exported for unit tests.
 * The pages document only the finished words, so a word in no list is read by its `result`: without one (or with
 * one that names no file yet) the task is still running; with file URLs it is done; with errors and no profiles
 * it failed. Only words that clearly mean failure end the export by themselves.
 */
export function interpretStatus(taskId: string, data: AltcraftStatusData): AltcraftTaskState {
  const at = where('altcraft', 'tasks/status');
  const meaning = altcraftStatusMeaning(data.status);
  const running = (known: boolean): AltcraftTaskState => ({
    state: 'running',
    status: data.status,
    progress: data.progress ?? null,
    known,
  });
  if (meaning === 'inFlight') return running(true);
  if (meaning === 'failed') {
    const errors = data.result?.errors ?? [];
    const why = errors.length > 0 ? `: ${snippet(JSON.stringify(errors))}` : '';
    throw new ClassifiedError(
      FAILURE_TYPES.jobFailed,
      `Altcraft task ${taskId} ended with status "${snippet(data.status, 60)}"${why}`,
      false,
      { vendor: 'altcraft', endpoint: 'tasks/status' },
    );
  }
  const result = data.result;
  if (meaning === 'unknown') {
    const failedOutright = result && result.errors.length > 0 && (result.total ?? 0) === 0;
    if (!result || (result.urls.length === 0 && !failedOutright)) return running(false);
  }
  if (!result) {
    throw new ClassifiedError(
      FAILURE_TYPES.response,
      `${at} said "${data.status}" for task ${taskId} but gave no result`,
      false,
      { vendor: 'altcraft', endpoint: 'tasks/status' },
    );
  }
  if (result.errors.length > 0 && (result.total ?? 0) === 0) {
    throw new ClassifiedError(
      FAILURE_TYPES.jobFailed,
      `Altcraft task ${taskId} finished with errors and no profiles: ${snippet(JSON.stringify(result.errors))}`,
      false,
      { vendor: 'altcraft', endpoint: 'tasks/status' },
    );
  }
  if (result.urls.length === 0 && (result.total ?? 0) > 0) {
    throw new ClassifiedError(
      FAILURE_TYPES.response,
      `${at} said task ${taskId} is done but listed no file URLs`,
      false,
      {
        vendor: 'altcraft',
        endpoint: 'tasks/status',
      },
    );
  }
  return { state: 'done', status: data.status, urls: result.urls, total: result.total ?? null };
}

/** `error` non-zero in the body: final, since retrying the same call gets the same answer. */
function altcraftBodyError(endpoint: string, code: number, text: string): ClassifiedError {
  if (code === ALTCRAFT_TARIFF_LIMIT.code) return tariffLimitReached(endpoint, text);
  return new ClassifiedError(
    FAILURE_TYPES.altcraft,
    `Altcraft ${endpoint}: error ${code} "${snippet(text, 200)}"`,
    false,
    {
      vendor: 'altcraft',
      endpoint,
    },
  );
}

/**
 * "402 Tariff limit reached", as HTTP status or body code: a final AltcraftError carrying those words (the
 * vendor's own `error_text` when it gave one), so the user knows to look at the panel's tariff, not to retry.
 * Exported for unit tests.
 */
export function tariffLimitReached(endpoint: string, vendorText?: string): ClassifiedError {
  const said = vendorText && vendorText.trim() !== '' ? snippet(vendorText, 200) : ALTCRAFT_TARIFF_LIMIT.text;
  const words = said.toLowerCase().includes(ALTCRAFT_TARIFF_LIMIT.text.toLowerCase())
    ? said
    : `${ALTCRAFT_TARIFF_LIMIT.text}: ${said}`;
  return new ClassifiedError(
    FAILURE_TYPES.altcraft,
    `Altcraft ${endpoint}: error ${ALTCRAFT_TARIFF_LIMIT.code} "${words}" (the panel's tariff allows no more of this; not retried, raise the plan's limit or wait for its next period)`,
    false,
    { vendor: 'altcraft', endpoint, status: ALTCRAFT_TARIFF_LIMIT.code },
  );
}

/** An HTTP 402 to any Altcraft request (a file download too), read as "Tariff limit reached" with its body's words. */
export function tariffLimitFromAnswer(endpoint: string, text: string): ClassifiedError {
  return tariffLimitReached(endpoint, bodyErrorText(text));
}

/** The `error_text` of an Altcraft JSON body, or the raw text (shortened) when it is not that. */
function bodyErrorText(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error_text?: unknown };
    if (typeof body.error_text === 'string') return body.error_text;
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return text.trim() === '' ? undefined : snippet(text, 120);
}

/**
 * Resolves a `urls` entry against the panel. Entries are opaque paths; an absolute URL is accepted only on the
 * panel's own origin, so the token is never sent to another host.
 */
export function resolveDownloadUrl(baseUrl: string, url: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
    const target = new URL(url);
    if (target.origin !== new URL(baseUrl).origin) {
      throw new ClassifiedError(
        FAILURE_TYPES.response,
        `Altcraft gave a download URL on another host (${target.host}); refusing to send the token there`,
        false,
        { vendor: 'altcraft', endpoint: 'download' },
      );
    }
    return target.toString();
  }
  return baseUrl.replace(/\/+$/, '') + (url.startsWith('/') ? url : `/${url}`);
}
