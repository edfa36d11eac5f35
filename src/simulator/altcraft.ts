/**
 * Simulated Altcraft panel: profiles/get_all -> tasks/status -> /api/download/... (docs/vendors/altcraft.md).
 * Body-level errors come with HTTP 200, as the real API does; that is what a client must notice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { MAX_ROWS, csvRows, csvSize } from './datasets';
import { serveFile } from './files';
import { parseJson, bearerToken, pause, sendJson, type Ctx } from './http';
import type { ServedFile } from './types';

export interface AltcraftSimConfig {
  /** The `default` account's API token. */
  token: string;
  /** Named accounts (panels) served besides `default`: account name -> API token. */
  accounts: Record<string, string>;
  /** Finished status word: the English page says 'completed', the Russian one 'success'. */
  statusWord: 'completed' | 'success';
  /**
   * Status word while the task runs. The pages document none (docs/vendors/altcraft.md); the default is one the
   * client expects, so a first export logs no warning. Tests set an unlisted word (e.g. `in progress`, which real
   * panels answer) to check that any word without a `result` is read as still running.
   */
  inFlightWord: string;
  /**
   * How file downloads take the token: 'either' (real panels accept either), 'bearer' only (the
   * English page) or 'query' only (`?token=`, the Russian v72 page). Others get 401.
   */
  downloadAuth: 'either' | 'bearer' | 'query';
  /** Added to `result.total`, to play a vendor whose count differs from the rows in its files. */
  totalOffset: number;
  /** Progress advances 0 -> 100 over this time. */
  taskDurationMs: number;
  rowsFor: (sourceType: string, sourceId: number) => number;
  /** Rows per source keyed "database:1"; wins over rowsFor. */
  rows: Record<string, number>;
  filesPerTask: number;
  downloadBytesPerSec?: number;
  supportRange: boolean;
  /** Every new task fails. */
  failTasks: boolean;
  /** The first N tasks created (since reset) fail; later ones succeed. */
  failFirstTasks: number;
  /** 'status': status = failWord with the text in result.errors; 'errors': finished word, errors non-empty, total 0. */
  failMode: 'status' | 'errors';
  failWord: string;
  failText: string;
  /**
   * get_all creates the task at once but answers this much later: a vendor that committed the job and is slow to
   * say so. A client that gives up on such a call and asks again leaves a second task (no idempotency key).
   */
  createAnswerDelayMs?: number;
}

export const ALTCRAFT_DEFAULTS: AltcraftSimConfig = {
  token: 'sim-altcraft-token',
  accounts: {},
  statusWord: 'completed',
  inFlightWord: 'processing',
  downloadAuth: 'either',
  totalOffset: 0,
  taskDurationMs: 2000,
  rowsFor: (_type, id) => 100 + id,
  rows: {},
  filesPerTask: 1,
  supportRange: true,
  failTasks: false,
  failFirstTasks: 0,
  failMode: 'status',
  failWord: 'error',
  failText: 'Export failed: database is temporarily unavailable',
};

/** Body-level error codes (the docs do not list them; any non-zero code is a failure). */
export const ALTCRAFT_ERRORS = {
  badRequest: { error: 1, error_text: 'Invalid request body' },
  invalidToken: { error: 3, error_text: 'Invalid token' },
  badSourceType: { error: 5, error_text: 'Invalid parameter: source_type must be database or segment' },
  badSourceId: { error: 5, error_text: 'Invalid parameter: source_id must be a positive integer' },
  badFormat: { error: 5, error_text: 'Invalid parameter: unsupported file_format' },
  badCustomRequest: { error: 5, error_text: 'Invalid parameter: custom_request must be an object' },
  tooLarge: { error: 5, error_text: 'Source too large for the simulator' },
  taskNotFound: { error: 9, error_text: 'Task not found' },
  /** Altcraft's documented answer code "402 Tariff limit reached" (see altcraftTariffLimitFault). */
  tariffLimit: { error: 402, error_text: 'Tariff limit reached', data: null },
} as const;

/**
 * A fault rule (sim.faults.add / POST /__sim/faults) that answers "402 Tariff limit reached" on an API call:
 * with HTTP 402 by default, or inside an HTTP 200 body (`httpStatus: 200`), the two ways the code can arrive.
 */
export function altcraftTariffLimitFault(
  endpoint: 'get_all' | 'status' = 'get_all',
  httpStatus: 200 | 402 = 402,
  times = 1,
): { vendor: 'altcraft'; endpoint: string; kind: 'status'; status: number; body: unknown; times: number } {
  return { vendor: 'altcraft', endpoint, kind: 'status', status: httpStatus, body: ALTCRAFT_ERRORS.tariffLimit, times };
}

const OK = { error: 0, error_text: 'Successful operation' };

export interface AltcraftFile {
  path: string;
  seed: string;
  rows: number;
  bytes: number;
}

export interface AltcraftTask {
  id: string;
  /** The account whose token created it; only that account's token can read or download it. */
  account: string;
  sourceType: 'database' | 'segment';
  sourceId: number;
  rows: number;
  createdAt: number;
  fails: boolean;
  /** The create request as received, token removed. */
  request: Record<string, unknown>;
  files: AltcraftFile[];
}

export function createAltcraft(config: AltcraftSimConfig, served: ServedFile[]) {
  let tasks = new Map<string, AltcraftTask>();
  let filesByPath = new Map<string, { task: AltcraftTask; file: AltcraftFile }>();

  function route(method: string, path: string): string | undefined {
    if (path === '/api/v1.1/profiles/get_all') return 'get_all';
    if (path === '/api/v1.1/tasks/status') return 'status';
    if (path.startsWith('/api/download/')) return 'download';
    if (path.startsWith('/api/v1.1/')) return 'other';
    void method;
    return undefined;
  }

  /** The account a token belongs to, recorded on the request; undefined for an unknown token. */
  function accountOf(ctx: Ctx, token: unknown): string | undefined {
    if (typeof token !== 'string' || token === '') return undefined;
    const account =
      token === config.token ? 'default' : Object.entries(config.accounts).find(([, t]) => t === token)?.[0];
    if (account !== undefined) ctx.log.account = account;
    return account;
  }

  function isDone(task: AltcraftTask): boolean {
    return Date.now() - task.createdAt >= config.taskDurationMs;
  }

  function rowsOf(type: string, id: number): number {
    return config.rows[`${type}:${id}`] ?? config.rowsFor(type, id);
  }

  function createTask(body: Record<string, unknown>, account: string): AltcraftTask {
    const sourceType = body.source_type as 'database' | 'segment';
    const sourceId = body.source_id as number;
    const rows = rowsOf(sourceType, sourceId);
    const dir = randomUUID();
    const n = Math.max(1, config.filesPerTask);
    const files: AltcraftFile[] = [];
    for (let k = 0; k < n; k++) {
      const fileRows = Math.floor(rows / n) + (k < rows % n ? 1 : 0);
      const name = k === 0 ? `${sourceId}_${sourceType}_export.csv` : `${sourceId}_${sourceType}_export_${k + 1}.csv`;
      files.push({
        path: `/api/download/data/${dir}/${name}`,
        seed: `altcraft:${sourceType}:${sourceId}:${k}`,
        rows: fileRows,
        bytes: csvSize(fileRows),
      });
    }
    const { token: _token, ...request } = body;
    const task: AltcraftTask = {
      id: `task_${randomUUID()}`,
      account,
      sourceType,
      sourceId,
      rows,
      createdAt: Date.now(),
      fails: config.failTasks || tasks.size < config.failFirstTasks,
      request,
      files,
    };
    tasks.set(task.id, task);
    for (const file of files) filesByPath.set(file.path, { task, file });
    return task;
  }

  async function getAll(ctx: Ctx): Promise<unknown> {
    const body = parseJson(ctx);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return sendJson(ctx, 400, { ...ALTCRAFT_ERRORS.badRequest, data: null });
    const b = body as Record<string, unknown>;
    const account = accountOf(ctx, b.token);
    if (account === undefined) return sendJson(ctx, 200, { ...ALTCRAFT_ERRORS.invalidToken, data: null });
    if (b.source_type !== 'database' && b.source_type !== 'segment')
      return sendJson(ctx, 200, { ...ALTCRAFT_ERRORS.badSourceType, data: null });
    if (typeof b.source_id !== 'number' || !Number.isInteger(b.source_id) || b.source_id <= 0) {
      return sendJson(ctx, 200, { ...ALTCRAFT_ERRORS.badSourceId, data: null });
    }
    if (b.file_format !== undefined && b.file_format !== 'csv')
      return sendJson(ctx, 200, { ...ALTCRAFT_ERRORS.badFormat, data: null });
    if (
      b.custom_request !== undefined &&
      (typeof b.custom_request !== 'object' || b.custom_request === null || Array.isArray(b.custom_request))
    ) {
      return sendJson(ctx, 200, { ...ALTCRAFT_ERRORS.badCustomRequest, data: null });
    }
    const rows = rowsOf(b.source_type, b.source_id);
    if (!Number.isInteger(rows) || rows < 0 || rows > MAX_ROWS)
      return sendJson(ctx, 200, { ...ALTCRAFT_ERRORS.tooLarge, data: null });
    const task = createTask(b, account);
    if (config.createAnswerDelayMs) await pause(ctx, config.createAnswerDelayMs);
    return sendJson(ctx, 200, { data: { task_id: task.id }, ...OK });
  }

  async function status(ctx: Ctx): Promise<unknown> {
    const body = parseJson(ctx);
    if (typeof body !== 'object' || body === null)
      return sendJson(ctx, 400, { ...ALTCRAFT_ERRORS.badRequest, data: null });
    const b = body as Record<string, unknown>;
    const account = accountOf(ctx, b.token);
    if (account === undefined) return sendJson(ctx, 200, { ...ALTCRAFT_ERRORS.invalidToken, data: null });
    const task = typeof b.task_id === 'string' ? tasks.get(b.task_id) : undefined;
    // Task ids are per panel: another account's task is as unknown as one that never existed.
    if (task && task.account !== account) ctx.log.foreign = true;
    if (!task || task.account !== account) return sendJson(ctx, 200, { ...ALTCRAFT_ERRORS.taskNotFound, data: null });
    if (!isDone(task)) {
      const progress = Math.min(99, Math.floor(((Date.now() - task.createdAt) / config.taskDurationMs) * 100));
      return sendJson(ctx, 200, { data: { status: config.inFlightWord, progress }, ...OK });
    }
    const base = { source_id: task.sourceId, type: task.sourceType };
    if (task.fails && config.failMode === 'status') {
      return sendJson(ctx, 200, {
        data: {
          status: config.failWord,
          progress: 100,
          result: { errors: [config.failText], ...base, total: 0, urls: [] },
        },
        ...OK,
      });
    }
    if (task.fails) {
      return sendJson(ctx, 200, {
        data: {
          status: config.statusWord,
          progress: 100,
          result: { errors: [config.failText], ...base, total: 0, urls: [] },
        },
        ...OK,
      });
    }
    const total = Math.max(0, task.rows + config.totalOffset);
    const result = { errors: [], ...base, total, urls: task.files.map((f) => f.path) };
    return sendJson(ctx, 200, { data: { status: config.statusWord, progress: 100, result }, ...OK });
  }

  async function download(ctx: Ctx): Promise<unknown> {
    const fromHeader = config.downloadAuth === 'query' ? undefined : bearerToken(ctx);
    const fromQuery = config.downloadAuth === 'bearer' ? undefined : ctx.url.searchParams.get('token');
    const account = accountOf(ctx, fromHeader ?? fromQuery);
    if (account === undefined) return sendJson(ctx, 401, { ...ALTCRAFT_ERRORS.invalidToken, data: null });
    const found = filesByPath.get(ctx.url.pathname);
    if (found && found.task.account !== account) ctx.log.foreign = true;
    const hit = found?.task.account === account ? found : undefined;
    if (!hit || hit.task.fails || !isDone(hit.task))
      return sendJson(ctx, 404, { error: 404, error_text: 'File not found', data: null });
    const { task, file } = hit;
    const etag = `"${createHash('sha1').update(`${file.seed}:${file.rows}:${task.id}`).digest('hex').slice(0, 20)}"`;
    return serveFile(
      ctx,
      {
        vendor: 'altcraft',
        size: file.bytes,
        chunksFrom: (start) => csvRows(file.seed, file.rows, { startByte: start }),
        contentType: 'text/csv',
        etag,
        lastModified: new Date(Math.floor((task.createdAt + config.taskDurationMs) / 1000) * 1000),
        headers: { 'Content-Disposition': `attachment; filename="${file.path.split('/').pop() ?? 'export.csv'}"` },
        supportRange: config.supportRange,
        bytesPerSec: config.downloadBytesPerSec,
        record: { rows: file.rows, encoding: null, seed: file.seed },
      },
      served,
    );
  }

  /** `<source_type>:<source_id>` of the task a request is about (see SimRequest.subject). */
  function subject(ctx: Ctx, endpoint: string): string | undefined {
    const of = (task: AltcraftTask | undefined): string | undefined =>
      task ? `${task.sourceType}:${task.sourceId}` : undefined;
    if (endpoint === 'download') return of(filesByPath.get(ctx.url.pathname)?.task);
    const body = parseJson(ctx) as Record<string, unknown> | undefined;
    if (typeof body !== 'object' || body === null) return undefined;
    if (endpoint === 'get_all') return `${String(body.source_type)}:${String(body.source_id)}`;
    if (endpoint === 'status' && typeof body.task_id === 'string') return of(tasks.get(body.task_id));
    return undefined;
  }

  async function handle(ctx: Ctx, endpoint: string): Promise<unknown> {
    const wantMethod = endpoint === 'download' ? 'GET' : 'POST';
    if (endpoint === 'other') return sendJson(ctx, 404, { error: 404, error_text: 'Method not found', data: null });
    if (ctx.method !== wantMethod && !(wantMethod === 'GET' && ctx.method === 'HEAD')) {
      return sendJson(ctx, 405, { error: 405, error_text: 'Method not allowed', data: null }, { Allow: wantMethod });
    }
    if (endpoint === 'get_all') return getAll(ctx);
    if (endpoint === 'status') return status(ctx);
    return download(ctx);
  }

  return {
    config,
    served,
    route,
    subject,
    handle,
    tasks: (): AltcraftTask[] => [...tasks.values()],
    reset(): void {
      tasks = new Map();
      filesByPath = new Map();
    },
  };
}

export type AltcraftSim = ReturnType<typeof createAltcraft>;
