/**
 * What `npm run chaos` checks once the storm is over: every export's files against what the simulator served,
 * the vendor jobs each export created, and leftovers in the export directory.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ExportManifest, SupportedProvider } from '../src/client';
import { csvInfo, csvRows, type Simulator } from '../src/simulator';
import { profileDocument } from '../src/simulator/apsis-profile';
import { gzipInfo } from '../src/simulator/gzip';
import type { ExportRequest } from '../test/helpers/export-request';
import { jobsFor } from '../test/helpers/vendor-jobs';

/** One planned export: its kind and input (paired as ExportClient.start takes them), the vendor subject only it
 * uses, and its workflow id. */
export type PlannedExport = ExportRequest & {
  subject: string;
  workflowId: string;
};

export interface ExportCheck {
  workflowId: string;
  provider: SupportedProvider;
  /** Temporal's final status (COMPLETED, FAILED, ...) or RUNNING when the run ended first. */
  status: string;
  files: number;
  identical: number;
  /** Files the vendor job has that are not in the export directory. */
  missing: number;
  /** Files in the export directory beyond the manifest's (second copies, `.part`, strays). */
  extra: number;
  jobs: number;
  /** Vendor jobs beyond the one downloaded, each created by a create call cut short by a worker kill. */
  orphans: number;
  /** For exports with an orphan: their create calls (times in ms), to read against the kill times. */
  createCalls?: { at: number; endedAt: number | null; status: number }[];
  attempts: number | null;
  problems: string[];
}

/** Where a create call for an export was on the wire: from the request until shortly after its answer. */
const CREATE_ENDPOINTS = ['get_all', 'segment-report', 'export-single', 'create'];
/** After the vendor answered, the worker still had to hand the answer to Temporal: a kill then loses it too. */
const ANSWER_IN_TRANSIT_MS = 2000;

const sha256 = (data: Buffer | string): string => crypto.createHash('sha256').update(data).digest('hex');

/** sha256 of every file the vendor job named in the manifest serves, recomputed from the simulator's data. */
async function servedSha256s(sim: Simulator, manifest: ExportManifest): Promise<string[] | undefined> {
  const id = manifest.remote.id;
  switch (manifest.provider) {
    case 'altcraft': {
      const task = sim.altcraft.tasks().find((t) => t.id === id);
      return task?.files.map((f) => csvInfo(f.seed, f.rows).sha256);
    }
    case 'apsis-segment': {
      const report = sim.apsis.reports().find((r) => r.id === id);
      return report ? [csvInfo(report.seed, report.rows).sha256] : undefined;
    }
    case 'apsis-profile': {
      const exp = sim.apsis.profileExports().find((e) => e.id === id);
      return exp ? [sha256(JSON.stringify(profileDocument(exp)))] : undefined;
    }
    case 'mytracker': {
      const exp = sim.mytracker.exports().find((e) => e.id === id);
      if (!exp) return undefined;
      const infos = await Promise.all(
        exp.files.map((f) => {
          // The simulator writes the header line into the first file only, unless told otherwise (issue 11).
          const header = exp.header && (f.index === 0 || sim.mytracker.config.headerInEveryFile);
          return gzipInfo(`${f.seed}|${f.rows}|${header}`, () => csvRows(f.seed, f.rows, { header }));
        }),
      );
      return infos.map((i) => i.sha256);
    }
  }
}

/** Download requests that went to a job of this export's subject other than `keep` (an orphan). */
function orphanDownloads(sim: Simulator, planned: PlannedExport, keep: string | undefined): number {
  const paths = new Set<string>();
  switch (planned.provider) {
    case 'altcraft':
      for (const t of sim.altcraft.tasks()) {
        if (`${t.sourceType}:${t.sourceId}` === planned.subject && t.id !== keep)
          for (const f of t.files) paths.add(f.path);
      }
      break;
    case 'apsis-segment':
      for (const r of sim.apsis.reports()) if (r.section === planned.subject && r.id !== keep) paths.add(r.pollPath);
      break;
    case 'apsis-profile':
      for (const e of sim.apsis.profileExports()) {
        if (e.exportKey === planned.subject && e.id !== keep) paths.add(new URL(e.dataUrl).pathname);
      }
      break;
    case 'mytracker':
      for (const e of sim.mytracker.exports()) {
        // Links point to the storage host by default, to the API host in seed 004's variant.
        if (e.idSegment === planned.subject && e.id !== keep)
          for (const f of e.files) paths.add(f.path).add(f.storagePath);
      }
      break;
  }
  // An APSIS report is polled before its file streams: only an answer with the file counts as a download.
  return sim.requests.filter(
    (r) => paths.has(r.path.split('?')[0]!) && (planned.provider !== 'apsis-segment' || r.status === 200),
  ).length;
}

/** Checks one export: manifest, files on disk, what the vendor served, and how many jobs it created. */
export async function checkExport(
  sim: Simulator,
  exportDir: string,
  planned: PlannedExport,
  status: string,
  manifest: ExportManifest | undefined,
  killTimes: number[],
): Promise<ExportCheck> {
  const problems: string[] = [];
  const jobs = jobsFor(sim, planned.provider, planned.subject);
  const dir = path.join(exportDir, planned.workflowId);
  const onDisk = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  const check: ExportCheck = {
    workflowId: planned.workflowId,
    provider: planned.provider,
    status,
    files: 0,
    identical: 0,
    missing: 0,
    extra: 0,
    jobs,
    orphans: 0,
    attempts: manifest?.remote.attempts ?? null,
    problems,
  };
  if (status !== 'COMPLETED' || !manifest) {
    problems.push(`ended ${status}`);
    check.extra = onDisk.length;
    return check;
  }
  if (jobs > 1) {
    // No vendor API here takes an idempotency key: a worker killed after the vendor accepted a create call but
    // before Temporal recorded the answer leaves a job behind, and the retried call creates another. Such an
    // orphan is accepted only when a kill really fell inside one of this export's create calls, and only if
    // nothing was ever downloaded from it.
    const vendor =
      planned.provider === 'altcraft' ? 'altcraft' : planned.provider === 'mytracker' ? 'mytracker' : 'apsis';
    const creates = sim.requests.filter(
      (r) => r.vendor === vendor && r.subject === planned.subject && CREATE_ENDPOINTS.includes(r.endpoint),
    );
    const cut = creates.filter((r) =>
      killTimes.some((t) => t >= r.at && t <= (r.endedAt ?? Infinity) + ANSWER_IN_TRANSIT_MS),
    ).length;
    check.orphans = jobs - 1;
    check.createCalls = creates.map((r) => ({ at: r.at, endedAt: r.endedAt ?? null, status: r.status }));
    if (cut < jobs - 1) problems.push(`${jobs} vendor jobs created, but only ${cut} create call(s) were cut by a kill`);
    const touched = orphanDownloads(sim, planned, manifest?.remote.id);
    if (touched > 0) problems.push(`${touched} download(s) from a vendor job that is not the export's`);
  }
  if (jobs < 1) problems.push('no vendor job created');
  if (manifest.remote.attempts !== 1) problems.push(`requested ${manifest.remote.attempts} times`);
  const expected = await servedSha256s(sim, manifest);
  if (!expected) {
    problems.push(`the vendor has no job ${manifest.remote.id}`);
    return check;
  }
  check.files = manifest.files.length;
  const names = manifest.files.map((f) => f.name);
  if (new Set(names).size !== names.length) problems.push('a file name appears twice in the manifest');
  const unmatched = [...expected];
  for (const file of manifest.files) {
    const full = path.join(dir, file.name);
    if (!fs.existsSync(full)) {
      problems.push(`${file.name} is in the manifest but not on disk`);
      continue;
    }
    const actual = sha256(fs.readFileSync(full));
    const k = unmatched.indexOf(actual);
    if (actual === file.sha256 && k >= 0) {
      check.identical++;
      unmatched.splice(k, 1);
    } else {
      problems.push(`${file.name} differs from what the vendor served`);
    }
  }
  check.missing = unmatched.length;
  if (unmatched.length > 0) problems.push(`${unmatched.length} served file(s) missing`);
  check.extra = onDisk.filter((name) => !names.includes(name)).length;
  if (check.extra > 0) problems.push(`extra files on disk: ${onDisk.filter((n) => !names.includes(n)).join(', ')}`);
  return check;
}
