/**
 * APSIS One single-profile export (docs/vendors/apsis.md): 202, then callbacks to the caller's URL (code 100, later code 200
 * with a data URL), then the profile JSON on that URL. Delivery misbehaviours (duplicate, missing, forged,
 * failure code) are switchable, because the callback receiver must survive all of them.
 */
import { createHash, randomUUID } from 'node:crypto';
import { parseJson, sendEmpty, sendJson, type Ctx } from './http';

export interface ApsisProfileConfig {
  /** Delay between the code-100 and the code-200 callback. */
  callbackDelayMs: number;
  /** Base URL (scheme://host:port) put into the code-200 data URL instead of ours, e.g. to forge a foreign host. */
  profileDataHost?: string;
  /** Send the code-200 callback twice. */
  duplicateCallback: boolean;
  /** Never send the code-200 callback (code 100 still goes out). */
  omitCallback: boolean;
  /** Before the real code-200, POST one to the callback URL with its last path segment altered. */
  forgedCallbackFirst: boolean;
  /** Tries per callback when the receiver is unreachable or answers non-2xx. */
  callbackRetries: number;
  callbackRetryDelayMs: number;
  /** Send this instead of the code-200 callback (a vendor-side failure). */
  callbackFailure?: { code: number; message: string };
}

export interface CallbackRecord {
  url: string;
  body: { code: number; message: string };
  status?: number;
  error?: string;
  attempt: number;
  forged?: boolean;
  at: number;
}

export interface ApsisProfileExport {
  id: string;
  exportKey: string;
  callbackUrl: string;
  dataUrl: string;
  section?: string;
  includeAttributeHistory: boolean;
  includeTypeDefinitions: boolean;
  includeMergedProfiles: boolean;
  createdAt: number;
}

const PREFIX = '/audience/profiles/export-single/';
const DATA_PATH = /^\/audience\/profiles\/export-single\/accounts\/[^/]+\/definitions\/([^/]+)$/;

/** The callback URL with its last path segment (where a per-export token lives) changed by one character. */
export function forgeCallbackUrl(url: string): string {
  const u = new URL(url);
  const segments = u.pathname.split('/');
  let i = segments.length - 1;
  while (i > 0 && segments[i] === '') i--;
  const last = segments[i] ?? '';
  if (last === '') u.pathname = `${u.pathname.replace(/\/$/, '')}/forged`;
  else {
    segments[i] = last.slice(0, -1) + (last.endsWith('x') ? 'y' : 'x');
    u.pathname = segments.join('/');
  }
  return u.toString();
}

export function createApsisProfiles(config: ApsisProfileConfig) {
  let exports = new Map<string, ApsisProfileExport>();
  const callbacksSent: CallbackRecord[] = [];
  let lifecycle = new AbortController();

  function sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }

  /** POSTs one callback, retrying on network errors and non-2xx answers; true once a 2xx came back. */
  async function deliver(
    url: string,
    body: CallbackRecord['body'],
    signal: AbortSignal,
    tries: number,
    forged = false,
  ): Promise<boolean> {
    for (let attempt = 1; attempt <= tries && !signal.aborted; attempt++) {
      const record: CallbackRecord = { url, body, attempt, at: Date.now(), ...(forged ? { forged } : {}) };
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'User-Agent': 'apsis-one-simulator' },
          body: JSON.stringify(body),
          signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]),
        });
        await res.arrayBuffer().catch(() => undefined);
        record.status = res.status;
        callbacksSent.push(record);
        if (res.ok) return true;
      } catch (err) {
        if (signal.aborted) return false;
        record.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        callbacksSent.push(record);
      }
      if (attempt < tries) await sleep(config.callbackRetryDelayMs, signal);
    }
    return false;
  }

  async function runCallbacks(exp: ApsisProfileExport, signal: AbortSignal): Promise<void> {
    const tries = Math.max(1, config.callbackRetries);
    // A callback URL that never verified gets nothing more: the export waits in vain, as it would for real.
    if (!(await deliver(exp.callbackUrl, { code: 100, message: 'Callback verified' }, signal, tries))) return;
    await sleep(config.callbackDelayMs, signal);
    if (signal.aborted) return;
    if (config.forgedCallbackFirst) {
      await deliver(forgeCallbackUrl(exp.callbackUrl), { code: 200, message: exp.dataUrl }, signal, 1, true);
    }
    if (config.omitCallback) return;
    const final = config.callbackFailure ?? { code: 200, message: exp.dataUrl };
    await deliver(exp.callbackUrl, final, signal, tries);
    if (config.duplicateCallback) await deliver(exp.callbackUrl, final, signal, tries);
  }

  async function requestExport(ctx: Ctx): Promise<unknown> {
    const bad = (detail: string): Promise<unknown> =>
      sendJson(ctx, 400, { type: 'about:blank', title: 'Bad Request', status: 400, detail });
    const rawKey = ctx.url.pathname.slice(PREFIX.length);
    // A key with a raw '/' means the client forgot to URL-encode it: no such route.
    if (rawKey === '' || rawKey.includes('/'))
      return sendJson(ctx, 404, { type: 'about:blank', title: 'Not Found', status: 404, detail: 'No such endpoint' });
    let exportKey: string;
    try {
      exportKey = decodeURIComponent(rawKey);
    } catch {
      return bad('export key is not valid URL encoding');
    }
    const body = parseJson(ctx);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return bad('JSON object expected');
    const b = body as Record<string, unknown>;
    if (typeof b.callback_url !== 'string' || !/^https?:\/\//.test(b.callback_url) || !URL.canParse(b.callback_url)) {
      return bad('callback_url must be an absolute http(s) URL');
    }
    if (b.section_discriminator !== undefined && typeof b.section_discriminator !== 'string')
      return bad('section_discriminator must be a string');
    for (const flag of ['include_attribute_history', 'include_type_definitions', 'include_merged_profiles']) {
      if (b[flag] !== undefined && typeof b[flag] !== 'boolean') return bad(`${flag} must be a boolean`);
    }
    const id = randomUUID();
    const includeTypeDefinitions = b.include_type_definitions === true;
    const exp: ApsisProfileExport = {
      id,
      exportKey,
      callbackUrl: b.callback_url,
      dataUrl: `${config.profileDataHost ?? ctx.base}${PREFIX}accounts/sim/definitions/${id}?metadata=${includeTypeDefinitions}`,
      section: b.section_discriminator as string | undefined,
      includeAttributeHistory: b.include_attribute_history === true,
      includeTypeDefinitions,
      includeMergedProfiles: b.include_merged_profiles === true,
      createdAt: Date.now(),
    };
    exports.set(id, exp);
    await sendEmpty(ctx, 202);
    // Callbacks start only after the 202 went out, but may still beat the caller's own bookkeeping.
    void runCallbacks(exp, lifecycle.signal).catch(() => undefined);
    return undefined;
  }

  async function serveData(ctx: Ctx): Promise<unknown> {
    const id = DATA_PATH.exec(ctx.url.pathname)?.[1];
    const exp = id === undefined ? undefined : exports.get(id);
    if (!exp)
      return sendJson(ctx, 404, { type: 'about:blank', title: 'Not Found', status: 404, detail: 'Export not found' });
    return sendJson(ctx, 200, profileDocument(exp));
  }

  /** The export key a request is about (see SimRequest.subject). */
  function subject(ctx: Ctx, endpoint: 'export-single' | 'profile-data'): string | undefined {
    if (endpoint === 'profile-data') {
      const id = DATA_PATH.exec(ctx.url.pathname)?.[1];
      return id === undefined ? undefined : exports.get(id)?.exportKey;
    }
    try {
      return decodeURIComponent(ctx.url.pathname.slice(PREFIX.length));
    } catch {
      return undefined;
    }
  }

  return {
    requestExport,
    serveData,
    subject,
    callbacksSent,
    exports: (): ApsisProfileExport[] => [...exports.values()],
    stop(): void {
      lifecycle.abort();
      lifecycle = new AbortController();
    },
    reset(): void {
      lifecycle.abort();
      lifecycle = new AbortController();
      exports = new Map();
      callbacksSent.length = 0;
    },
  };
}

/** Deterministic numbers for a profile: the same key always exports the same document. */
function digits(text: string): number[] {
  return [...createHash('sha256').update(text).digest()];
}

const DAY = 86_400_000;
const EPOCH = Date.UTC(2024, 0, 1);

/** The export file, honouring the three include flags as APSIS's single-profile page describes. */
export function profileDocument(
  exp: Pick<
    ApsisProfileExport,
    'exportKey' | 'section' | 'includeAttributeHistory' | 'includeTypeDefinitions' | 'includeMergedProfiles'
  >,
): Record<string, unknown> {
  const sections = exp.section ? [exp.section] : ['com.simulator.section.main', 'com.simulator.section.app'];
  const keys = exp.includeMergedProfiles ? [exp.exportKey, `${exp.exportKey}~merged-1`] : [exp.exportKey];
  const profiles: Record<string, unknown> = {};
  for (const key of keys) {
    const perSection: Record<string, unknown> = {};
    for (const section of sections) {
      const d = digits(`${key}|${section}`);
      const n = (i: number): number => d[i % d.length] ?? 0;
      const attributes: Record<string, unknown> = {
        email: `${key.replace(/[^A-Za-z0-9._-]/g, '_')}@example.test`,
        first_name: `Name${n(0)}`,
        score: n(1),
        consent: n(2) % 2 === 0,
      };
      if (exp.includeAttributeHistory) {
        attributes.history = [
          { attribute: 'score', value: Math.max(0, n(1) - 10), changed_at: new Date(EPOCH + n(3) * DAY).toISOString() },
          { attribute: 'score', value: n(1), changed_at: new Date(EPOCH + (n(3) + 30) * DAY).toISOString() },
        ];
      }
      const events = Array.from({ length: 1 + (n(4) % 3) }, (_, i) => ({
        event_discriminator: 'com.simulator.event.email_opened',
        time: new Date(EPOCH + (n(5 + i) + i * 7) * DAY).toISOString(),
        data: { campaign: `campaign-${n(8 + i) % 10}`, index: i },
      }));
      perSection[section] = { attributes, events };
    }
    profiles[key] = { sections: perSection };
  }
  const doc: Record<string, unknown> = { profiles };
  if (exp.includeTypeDefinitions) {
    const metaSections: Record<string, unknown> = {};
    for (const section of sections) {
      metaSections[section] = {
        attributes: {
          email: { type: 'string' },
          first_name: { type: 'string' },
          score: { type: 'integer' },
          consent: { type: 'boolean' },
        },
        events: {
          'com.simulator.event.email_opened': { data: { campaign: { type: 'string' }, index: { type: 'integer' } } },
        },
      };
    }
    doc.metadata = { sections: metaSections };
  }
  return doc;
}
