/**
 * `npm run chaos`: many exports of every kind through a real Temporal dev server (SQLite file, so it survives
 * its own restart), the vendor simulator (random latency, big throttled downloads) and a worker process that is
 * SIGKILLed at random moments while vendor jobs are being created, polled, awaited by callback and downloaded,
 * then restarted; the Temporal server is restarted too. Afterwards every export is checked: completed, files
 * byte-identical to what the vendor served, exactly one vendor job each, nothing duplicated, missing or partial,
 * no secret in any history, log or manifest. Beside the SIGKILLs, rolling restarts: a new worker starts, then the
 * old one gets SIGTERM (as `docker compose up` or a Kubernetes rollout does) aimed at create calls and downloads;
 * it must exit 0 and leave no orphan vendor job (its calls in flight finish, downloads resume elsewhere).
 * Prints a table; exits 1 if any of that does not hold.
 *
 *   npm run chaos -- [--n 60] [--minutes 6] [--kills 10] [--sigterms 4] [--keep]
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ExportClient, type ExportManifest, type SupportedProvider } from '../src/client';
import { readConfig } from '../src/config';
import { ensureTemporalCli, startDevServer, type DevServer } from '../src/dev/temporal-server';
import { simulatorEnv, startSimulator, type SimRequest } from '../src/simulator';
import { SIM_ACCESS_TOKEN, spawnCallbackReceiver } from '../test/helpers/apsis';
import { spawnWorker, tempDir, type WorkerProcess } from '../test/helpers/processes';
import { exportDirTexts, scanForSecrets } from '../test/helpers/secrets';
import { freePort } from '../test/helpers/temporal';
import { checkExport, type ExportCheck, type PlannedExport } from './chaos-checks';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '60' },
    minutes: { type: 'string', default: '6' },
    kills: { type: 'string', default: '10' },
    sigterms: { type: 'string', default: '4' },
    keep: { type: 'boolean', default: false },
  },
});
const N = Math.max(4, Number(args.n));
const MINUTES = Number(args.minutes);
const MIN_KILLS = Number(args.kills);
const MIN_SIGTERMS = Number(args.sigterms);
const PHASES = ['create', 'poll', 'callback wait', 'download'] as const;
type Phase = (typeof PHASES)[number];

const started = Date.now();
const deadline = started + MINUTES * 60_000;
/** Kills and restarts stop this long before the deadline, leaving time for every export to finish. */
const DRAIN_MS = Math.min(150_000, MINUTES * 60_000 * 0.4);
const killWindowEnd = deadline - DRAIN_MS;
/** Exports start over the first part of the kill window, so vendor jobs are being created while workers die. */
const startWindowEnd = started + (killWindowEnd - started) * 0.7;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (min: number, max: number) => min + Math.random() * (max - min);
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
const say = (text: string) => process.stdout.write(`[chaos ${elapsed()}] ${text}\n`);

/** The mix, repeated: per 10 exports, 4 Altcraft, 2 APSIS segment reports, 2 APSIS profiles, 2 myTracker. */
const MIX: SupportedProvider[] = [
  'altcraft',
  'mytracker',
  'apsis-segment',
  'altcraft',
  'apsis-profile',
  'altcraft',
  'mytracker',
  'apsis-segment',
  'altcraft',
  'apsis-profile',
];

/** A planned export whose input is also checked against its provider's input type, so it starts without a cast. */
type Planned = PlannedExport;

function planExports(): {
  exports: Planned[];
  altcraftRows: Record<string, number>;
  apsisRows: Map<string, number>;
} {
  const altcraftRows: Record<string, number> = {};
  const apsisRows = new Map<string, number>();
  const exports = Array.from({ length: N }, (_, k): Planned => {
    const provider = MIX[k % MIX.length]!;
    const workflowId = `chaos-${String(k).padStart(3, '0')}-${provider}`;
    switch (provider) {
      case 'altcraft':
        altcraftRows[`database:${100 + k}`] = Math.round(rand(15_000, 40_000));
        return {
          provider,
          workflowId,
          subject: `database:${100 + k}`,
          input: { sourceType: 'database', sourceId: 100 + k },
        };
      case 'apsis-segment': {
        const section = `com.chaos.sections.s${k}`;
        apsisRows.set(section, Math.round(rand(10_000, 30_000)));
        return { provider, workflowId, subject: section, input: { section, segments: [`com.chaos.segments.g${k}`] } };
      }
      case 'apsis-profile':
        return {
          provider,
          workflowId,
          subject: `chaos-${k}@example.test`,
          input: { exportKey: `chaos-${k}@example.test` },
        };
      case 'mytracker':
        return { provider, workflowId, subject: String(9000 + k), input: { segmentId: 9000 + k } };
    }
  });
  return { exports, altcraftRows, apsisRows };
}

async function main(): Promise<number> {
  const root = tempDir('chaos');
  const plan = planExports();
  say(`${N} exports, ${MINUTES} min at most, at least ${MIN_KILLS} worker kills; files under ${root}`);

  const cli = await ensureTemporalCli();
  const temporalAddress = `127.0.0.1:${await freePort()}`;
  const dbFile = path.join(root, 'temporal.db');
  const startTemporal = () =>
    startDevServer({ cli, address: temporalAddress, uiPort: null, dbFile, logFile: path.join(root, 'temporal.log') });
  let temporal: DevServer | undefined = await startTemporal();

  const sim = await startSimulator({
    latencyMs: { min: 20, max: 250 },
    altcraft: { taskDurationMs: 3000, rows: plan.altcraftRows, filesPerTask: 2, downloadBytesPerSec: 600_000 },
    apsis: {
      reportReadyAfterMs: 2500,
      rowsFor: (section) => plan.apsisRows.get(section) ?? 1000,
      downloadBytesPerSec: 600_000,
      callbackDelayMs: 4000,
      // APSIS keeps trying a callback for a while: it must outlast a Temporal restart.
      callbackRetries: 90,
      callbackRetryDelayMs: 1000,
    },
    mytracker: { exportDurationMs: 3000, files: 3, rowsPerFile: 6000, downloadBytesPerSec: 60_000 },
  });

  const receiverPort = await freePort();
  const callbackSecret = crypto.randomBytes(32).toString('base64url');
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: temporalAddress,
    EXPORTFLOW_TASK_QUEUE: `chaos-${process.pid}`,
    EXPORT_DIR: path.join(root, 'exports'),
    EXPORTFLOW_DATA_DIR: path.join(root, 'data'),
    EXPORTFLOW_POLL_INITIAL: '300ms',
    EXPORTFLOW_POLL_MAX: '2s',
    EXPORTFLOW_HEARTBEAT_TIMEOUT: '5s',
    CALLBACK_LISTEN: '127.0.0.1:0',
    // APSIS calls a receiver that is not in the worker being killed, as README's deployment advice says.
    CALLBACK_PUBLIC_URL: `http://127.0.0.1:${receiverPort}`,
    CALLBACK_SECRET: callbackSecret,
    // A run makes far fewer calls than an hourly quota: no hour window (myTracker 1.44 calls/s, as before
    // quotas), while the simulator plays myTracker's documented quotas (docs/accounts-and-quotas.md).
    EXPORTFLOW_QUOTA_MYTRACKER: '10/s,100/min',
    EXPORTFLOW_QUOTA_APSIS: '10/s',
    EXPORTFLOW_QUOTA_ALTCRAFT: '10/s',
    ...simulatorEnv(sim),
  };
  const receiver = spawnCallbackReceiver({ ...env, CALLBACK_LISTEN: `127.0.0.1:${receiverPort}` });
  await receiver.ready;

  // The worker, restarted whenever it dies: by our SIGKILL, or on its own (counted: that would be a finding).
  const workers: WorkerProcess[] = [];
  let worker: WorkerProcess | undefined;
  let killing = false;
  let stopping = false;
  let diedOnTheirOwn = 0;
  const startWorker = async (): Promise<void> => {
    for (;;) {
      const w = spawnWorker(env, path.join(root, `worker-${workers.length + 1}.log`));
      workers.push(w);
      worker = w;
      w.child.once('exit', () => {
        if (worker !== w || killing || stopping) return;
        diedOnTheirOwn++;
        say(`worker ${workers.length} exited on its own; starting another`);
        void startWorker();
      });
      try {
        await w.ready;
        return;
      } catch (err) {
        if (stopping) return;
        say(`worker did not start (${(err as Error).message.split('\n')[0]}); trying again`);
        await sleep(1000);
      }
    }
  };
  await startWorker();

  const client = await ExportClient.connect({}, readConfig(env));
  cleanup = async () => {
    stopping = true;
    for (const w of workers) await w.kill('SIGKILL');
    await receiver.kill();
    await client.close().catch(() => undefined);
    await sim.close();
    await temporal?.stop();
  };

  // Exports start one by one over the start window; a start during a Temporal restart is retried (same id).
  const starting = (async () => {
    const gap = (startWindowEnd - Date.now()) / N;
    for (const planned of plan.exports) {
      for (;;) {
        try {
          await client.start(planned.provider, planned.input, { workflowId: planned.workflowId });
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await sleep(1000);
        }
      }
      await sleep(Math.max(0, gap * rand(0.5, 1.5)));
    }
    say(`all ${N} exports started`);
  })();

  // What is going on at the vendors right now, from the simulator's own request log.
  const live = (r: SimRequest) => r.endedAt === undefined && r.vendor !== 'admin' && r.vendor !== 'unknown';
  const CREATES = ['get_all', 'segment-report', 'export-single', 'create'];
  const phasesNow = (): Set<Phase> => {
    const phases = new Set<Phase>();
    for (const r of sim.requests.slice(-3000).filter(live)) {
      if (CREATES.includes(r.endpoint)) phases.add('create');
      else if (r.endpoint === 'status' || r.endpoint === 'get' || (r.endpoint === 'poll' && r.status !== 200)) {
        phases.add('poll');
      } else if (r.endpoint === 'download' || r.endpoint === 'profile-data' || r.endpoint === 'poll') {
        phases.add('download');
      }
    }
    const delivered = new Set(
      sim.apsis.callbacksSent.filter((c) => c.body.code === 200 && c.status === 200).map((c) => c.url),
    );
    const accepted = sim.requests.filter((r) => r.endpoint === 'export-single' && r.status === 202).length;
    if (accepted > 0 && sim.apsis.profileExports().some((e) => !delivered.has(e.callbackUrl))) {
      phases.add('callback wait');
    }
    return phases;
  };

  // The storm: kill the worker with SIGKILL, each time aiming at the next phase; every third time a rolling
  // restart with SIGTERM instead (aimed at create calls and downloads); restart Temporal once midway.
  const kills: { at: string; atMs: number; target: Phase; phases: Phase[] }[] = [];
  const sigterms: { at: string; atMs: number; endMs: number; target: Phase; phases: Phase[]; exit: string }[] = [];
  const rollingRestart = async (target: Phase): Promise<void> => {
    const until = Date.now() + 12_000;
    while (!phasesNow().has(target) && Date.now() < until) await sleep(10);
    const old = worker;
    const phases = [...phasesNow()];
    const atMs = Date.now();
    let endMs = atMs;
    const exited = old
      ? new Promise<string>((resolve) => {
          if (old.child.exitCode !== null) return resolve(`already exited ${old.child.exitCode}`);
          old.child.once('exit', (code, signal) => {
            endMs = Date.now();
            resolve(signal ? `signal ${signal}` : `code ${code}`);
          });
          old.child.kill('SIGTERM');
        })
      : Promise.resolve('no worker');
    say(`SIGTERM worker, rolling (aimed at ${target}; in flight: ${phases.join(', ') || 'nothing'})`);
    // The replacement starts while the old worker drains, as in a rolling update.
    await startWorker();
    const exit = await exited;
    sigterms.push({ at: elapsed(), atMs, endMs, target, phases, exit });
    say(`the SIGTERMed worker ended: ${exit} after ${((endMs - atMs) / 1000).toFixed(1)} s`);
  };
  let temporalRestarts = 0;
  const restartAtKill = Math.max(2, Math.floor(MIN_KILLS / 2));
  await sleep(8000);
  for (let k = 0; Date.now() < killWindowEnd || kills.length < MIN_KILLS || sigterms.length < MIN_SIGTERMS; k++) {
    if (Date.now() > deadline - 60_000) break;
    await sleep(rand(3000, 9000));
    if (k === restartAtKill) {
      say('stopping the Temporal dev server');
      await temporal?.stop();
      temporal = undefined;
      await sleep(rand(1000, 4000));
      temporal = await startTemporal();
      temporalRestarts++;
      say('Temporal dev server is back (same SQLite file)');
      continue;
    }
    if ((k % 3 === 2 || kills.length >= MIN_KILLS) && sigterms.length < MIN_SIGTERMS) {
      await rollingRestart(sigterms.length % 2 === 0 ? 'create' : 'download');
      continue;
    }
    const target = PHASES[kills.length % PHASES.length]!;
    const until = Date.now() + 12_000;
    while (!phasesNow().has(target) && Date.now() < until) await sleep(10);
    const phases = [...phasesNow()];
    killing = true;
    const atMs = Date.now();
    await worker?.kill('SIGKILL');
    killing = false;
    kills.push({ at: elapsed(), atMs, target, phases });
    say(`SIGKILL worker (aimed at ${target}; in flight: ${phases.join(', ') || 'nothing'})`);
    await sleep(rand(300, 2500));
    await startWorker();
  }
  await starting;

  // Let everything finish (bounded by the deadline).
  const queue = `TaskQueue="${env.EXPORTFLOW_TASK_QUEUE}"`;
  say('storm over; waiting for the exports to finish');
  for (;;) {
    const running = await client.temporal.workflow
      .count(`${queue} AND ExecutionStatus="Running"`)
      .then((c) => c.count)
      .catch(() => -1);
    if (running === 0 || Date.now() > deadline) break;
    await sleep(2000);
  }

  const checks: ExportCheck[] = [];
  const manifests: ExportManifest[] = [];
  for (const planned of plan.exports) {
    const handle = client.temporal.workflow.getHandle(planned.workflowId);
    const status = (await handle.describe()).status.name;
    const manifest = status === 'COMPLETED' ? ((await handle.result()) as ExportManifest) : undefined;
    if (manifest) manifests.push(manifest);
    checks.push(
      await checkExport(
        sim,
        env.EXPORT_DIR!,
        planned,
        status,
        manifest,
        kills.map((k) => k.atMs),
      ),
    );
  }
  const partials = listFiles(env.EXPORT_DIR!).filter((f) => f.endsWith('.part'));

  const scan = await scanForSecrets({
    temporal: client.temporal,
    query: queue,
    secrets: [
      sim.credentials.altcraftToken,
      sim.credentials.apsisClientSecret,
      sim.credentials.mytrackerSecret,
      callbackSecret,
    ],
    authorizations: sim.authorizationsSeen(),
    callbackSecret,
    patterns: [SIM_ACCESS_TOKEN],
    texts: [
      ...workers.map((w, i) => ({ name: `worker ${i + 1} log`, text: w.logs() })),
      { name: 'callback receiver log', text: receiver.logs() },
      { name: 'manifests', text: JSON.stringify(manifests) },
      ...exportDirTexts(env.EXPORT_DIR!),
    ],
  });

  // Orphans a SIGKILL explains (a kill fell inside one of the export's create calls, or just after its answer)
  // are accepted; any other extra job was left by a rolling restart, which must never cut a create call.
  const killTimes = kills.map((k) => k.atMs);
  const sigtermOrphans = checks.reduce((n, c) => {
    const cutByKill = (c.createCalls ?? []).filter((r) =>
      killTimes.some((t) => t >= r.at && t <= (r.endedAt ?? Infinity) + 2000),
    ).length;
    return n + Math.max(0, c.orphans - cutByKill);
  }, 0);

  // The report.
  const count = (f: (c: ExportCheck) => boolean) => checks.filter(f).length;
  const files = checks.reduce((n, c) => n + c.files, 0);
  const identical = checks.reduce((n, c) => n + c.identical, 0);
  const jobs = checks.map((c) => c.jobs);
  const byPhase = Object.fromEntries(PHASES.map((p) => [p, kills.filter((k) => k.phases.includes(p)).length]));
  const rows: [string, string | number, string][] = [
    [
      'exports started',
      N,
      `${count((c) => c.provider === 'altcraft')} Altcraft, ${count((c) => c.provider === 'apsis-segment')} APSIS segment, ${count((c) => c.provider === 'apsis-profile')} APSIS profile, ${count((c) => c.provider === 'mytracker')} myTracker`,
    ],
    ['exports completed', count((c) => c.status === 'COMPLETED'), `must be ${N}`],
    ['files stored', files, ''],
    ['files byte-identical to what was served', identical, `must be ${files}`],
    [
      'exports with exactly 1 vendor job',
      count((c) => c.jobs === 1),
      `${jobs.reduce((a, b) => a + b, 0)} jobs for ${N} exports; every export downloaded from exactly 1`,
    ],
    [
      'orphan vendor jobs (kill during the create call)',
      checks.reduce((n, c) => n + c.orphans, 0),
      'a kill fell inside that create call; never downloaded from (no vendor idempotency key)',
    ],
    [
      'orphan vendor jobs from SIGTERM',
      sigtermOrphans,
      'jobs beyond 1 with no SIGKILL inside any of the export’s create calls; must be 0',
    ],
    ['duplicate / extra files', checks.reduce((n, c) => n + c.extra, 0), 'must be 0'],
    ['missing files', checks.reduce((n, c) => n + c.missing, 0), 'must be 0'],
    ['partial (.part) files left', partials.length, 'must be 0'],
    [
      'worker kills (SIGKILL)',
      kills.length,
      `at least ${MIN_KILLS}; in flight at the kill: ${PHASES.map((p) => `${p} ${byPhase[p]}`).join(', ')}`,
    ],
    [
      'rolling restarts (SIGTERM)',
      sigterms.length,
      `at least ${MIN_SIGTERMS}; in flight: create ${sigterms.filter((t) => t.phases.includes('create')).length}, download ${sigterms.filter((t) => t.phases.includes('download')).length}; exits: ${[...new Set(sigterms.map((t) => t.exit))].join(', ')}; longest stop ${Math.max(0, ...sigterms.map((t) => t.endMs - t.atMs))} ms`,
    ],
    ['worker deaths not caused by us', diedOnTheirOwn, 'informational'],
    ['Temporal dev server restarts', temporalRestarts, 'at least 1'],
    [
      'secret scan',
      scan.hits.length,
      `hits in ${scan.histories} histories + ${scan.texts} logs/manifests, ${scan.needles} secret values; must be 0`,
    ],
    ['wall time', `${((Date.now() - started) / 1000).toFixed(0)} s`, `limit ${MINUTES} min`],
  ];
  process.stdout.write('\n');
  console.table(rows.map(([what, value, note]) => ({ what, value, note })));

  const violations: string[] = [];
  for (const c of checks) for (const p of c.problems) violations.push(`${c.workflowId}: ${p}`);
  if (partials.length > 0) violations.push(`partial files left: ${partials.join(', ')}`);
  if (kills.length < MIN_KILLS) violations.push(`only ${kills.length} kills`);
  if (sigterms.length < MIN_SIGTERMS) violations.push(`only ${sigterms.length} rolling restarts`);
  for (const t of sigterms) if (t.exit !== 'code 0') violations.push(`a SIGTERMed worker ended with ${t.exit}`);
  if (sigtermOrphans > 0) violations.push(`${sigtermOrphans} orphan vendor job(s) from SIGTERM`);
  for (const p of PHASES) if (byPhase[p] === 0) violations.push(`no kill while "${p}" was in flight`);
  if (temporalRestarts < 1) violations.push('the Temporal server was not restarted');
  violations.push(...scan.hits);
  fs.writeFileSync(
    path.join(root, 'report.json'),
    JSON.stringify({ rows, kills, sigterms, violations, checks }, null, 2),
  );

  await cleanup();
  cleanup = async () => undefined;
  if (violations.length > 0) {
    process.stdout.write(`\nVIOLATIONS (${violations.length}); everything is kept under ${root}:\n`);
    for (const v of violations.slice(0, 50)) process.stdout.write(`  - ${v}\n`);
    return 1;
  }
  process.stdout.write('\nevery guarantee held\n');
  if (!args.keep) fs.rmSync(root, { recursive: true, force: true });
  else process.stdout.write(`kept: ${root}\n`);
  return 0;
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f));
}

/** Stops every process and server the run started; replaced as they come up. */
let cleanup: () => Promise<void> = async () => undefined;

process.once('SIGINT', () => {
  say('interrupted; cleaning up');
  void cleanup().finally(() => process.exit(130));
});

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`chaos run failed: ${(err as Error)?.stack ?? String(err)}\n`);
    await cleanup().catch(() => undefined);
    process.exit(1);
  },
);
