import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { callbackToken } from '../../src/providers/apsis/callback-url';
import { historyText } from './apsis';

/** What a secret scan looked at and what it found; `hits` must be empty. */
export interface SecretScanReport {
  /** Workflow runs whose history (payloads decoded) was searched. */
  histories: number;
  /** Log, output and manifest texts searched. */
  texts: number;
  /** Distinct secret values searched for (plus one callback token per workflow). */
  needles: number;
  hits: string[];
}

export interface SecretScanInput {
  temporal: Client;
  /** Visibility query selecting the runs to scan, e.g. `TaskQueue="..."`. */
  query: string;
  /** Exact values that must appear nowhere: tokens, client secrets, API secrets, the callback secret. */
  secrets: string[];
  /** Every Authorization header value a vendor received (Simulator.authorizationsSeen()). */
  authorizations?: string[];
  /** When set, each workflow's own callback token (HMAC of its id) is searched for too. */
  callbackSecret?: string;
  /** Shapes that must not appear either (e.g. simulator access tokens). */
  patterns?: RegExp[];
  /** Logs, CLI output, manifests: anything else a secret could leak into. */
  texts: { name: string; text: string }[];
}

/**
 * The credential part of an Authorization header: the bearer token, or the signature of an AuthHMAC header.
 * The header as a whole is searched for too.
 */
function credentialParts(header: string): string[] {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  const hmac = /^AuthHMAC\s+[^:]+:(\S+)$/i.exec(header)?.[1];
  return [header, ...(bearer ? [bearer] : []), ...(hmac ? [hmac] : [])];
}

/**
 * Searches every workflow history matched by `query` (all runs, payloads decoded), and every given text, for each
 * configured secret, each Authorization value a vendor saw and each workflow's callback token.
 */
export async function scanForSecrets(input: SecretScanInput): Promise<SecretScanReport> {
  const needles = new Set<string>();
  for (const secret of input.secrets) if (secret.length >= 8) needles.add(secret);
  for (const header of input.authorizations ?? []) {
    for (const part of credentialParts(header)) if (part.length >= 8) needles.add(part);
  }
  const patterns = input.patterns ?? [];
  const hits: string[] = [];
  const search = (where: string, text: string, extra: string[] = []): void => {
    for (const needle of [...needles, ...extra]) {
      if (text.includes(needle)) hits.push(`${where}: contains a secret (${needle.slice(0, 6)}…)`);
    }
    for (const pattern of patterns) if (pattern.test(text)) hits.push(`${where}: matches ${pattern}`);
  };
  let histories = 0;
  let tokens = 0;
  for await (const wf of input.temporal.workflow.list({ query: input.query })) {
    const text = await historyText(input.temporal, wf.workflowId, wf.runId);
    const own = input.callbackSecret ? [callbackToken(input.callbackSecret, wf.workflowId)] : [];
    tokens += own.length;
    search(`history of ${wf.workflowId} (${wf.runId})`, text, own);
    histories++;
  }
  for (const { name, text } of input.texts) search(name, text);
  return { histories, texts: input.texts.length, needles: needles.size + tokens, hits };
}

/** Every manifest-like file under an export directory (names and JSON contents), as scan texts. */
export function exportDirTexts(exportDir: string): { name: string; text: string }[] {
  if (!fs.existsSync(exportDir)) return [];
  const out: { name: string; text: string }[] = [];
  const names: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      names.push(path.relative(exportDir, full));
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.json')) out.push({ name: full, text: fs.readFileSync(full, 'utf8') });
    }
  };
  walk(exportDir);
  out.push({ name: `${exportDir} (file names)`, text: names.join('\n') });
  return out;
}
