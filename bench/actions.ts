/**
 * What an export costs in Temporal actions, counted by the Temporal server itself: a CLI dev server started
 * with `--metrics-port` exposes the `action` counter (Prometheus text, one series per `action_type`, e.g.
 * `command_ScheduleActivityTask`, `grpc_RecordActivityTaskHeartbeat`, `grpc_QueryWorkflow`). Each case runs
 * alone against the simulator on 127.0.0.1, and the counter's growth over the case is what it cost; the
 * manifest's own `temporal.actions` (counted from the history) is printed beside it.
 *
 *   node --import tsx bench/actions.ts [--polls 20] [--follow-s 120]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type ExportManifest } from '../src/client';
import { createExportSchedule } from '../src/client/schedules';
import { describeMachine, printTable } from './machine';
import { startBenchStack } from './stack';
import { exportRequest, type ExportRequest } from '../test/helpers/export-request';
import { freePort } from '../test/helpers/temporal';

const POLL_INITIAL_MS = 1000;
const POLL_MAX_MS = 2000;
const STATUS_ACTIVITIES = new Set(['altcraftTaskStatus', 'mytrackerExportStatus', 'apsisPollSegmentReport']);

/** The server's `action` counter for the default namespace, per action_type. */
async function actions(metricsUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('action{')) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    if (!/namespace="default"/.test(labels)) continue;
    const type = /action_type="([^"]+)"/.exec(labels)?.[1] ?? '?';
    const value = Number(line.slice(line.lastIndexOf('}') + 1).trim());
    out.set(type, (out.get(type) ?? 0) + value);
  }
  return out;
}

function delta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** `timers 20, activities 22, heartbeats 0, ...` from action types. */
function breakdown(m: Map<string, number>): string {
  const groups: [string, RegExp][] = [
    ['start', /StartWorkflowExecution|ContinueAsNew|StartChildWorkflow/],
    ['timers', /StartTimer/],
    ['activities', /ScheduleActivityTask|activity_retry|RespondActivityTask.*Failed|ActivityTaskRetry/i],
    ['heartbeats', /Heartbeat/],
    ['upserts', /UpsertWorkflowSearchAttributes|ModifyWorkflowProperties/],
    ['markers', /RecordMarker/],
    ['signals', /Signal/],
    ['queries', /Query/],
  ];
  const parts: string[] = [];
  const seen = new Set<string>();
  for (const [name, re] of groups) {
    let n = 0;
    for (const [k, v] of m) {
      if (!seen.has(k) && re.test(k)) {
        n += v;
        seen.add(k);
      }
    }
    if (n > 0) parts.push(`${name} ${n}`);
  }
  for (const [k, v] of m) if (!seen.has(k)) parts.push(`${k} ${v}`);
  return parts.join(', ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { polls: { type: 'string', default: '20' }, 'follow-s': { type: 'string', default: '120' } },
  });
  const polls = Number(values.polls);
  const followS = Number(values['follow-s']);
  // Polls at 1-2 s (the setting): ~2 s apart once capped, so a job of N polls takes about 2N s.
  const jobMs = polls * POLL_MAX_MS;
  const metricsPort = await freePort();
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const stack = await startBenchStack({
    name: 'actions',
    devServerArgs: ['--metrics-port', String(metricsPort)],
    sim: {
      altcraft: { taskDurationMs: jobMs, rowsFor: () => 1000 },
      apsis: { reportReadyAfterMs: jobMs, callbackDelayMs: 300 },
      mytracker: { exportDurationMs: jobMs },
    },
    env: {
      EXPORTFLOW_POLL_INITIAL: `${POLL_INITIAL_MS}ms`,
      EXPORTFLOW_POLL_MAX: `${POLL_MAX_MS}ms`,
      // Under an hour: the deadline rule is active on every step (the case that once cost a timer per poll).
      EXPORTFLOW_MAX_WAIT: '30m',
      CALLBACK_LISTEN: `127.0.0.1:${await freePort()}`,
    },
  });
  const { env, sim, client } = stack;
  const rows: (string | number)[][] = [];
  const notes: string[] = [];

  /** Polls an export made (status activities scheduled in its history, every run). */
  async function pollsOf(workflowId: string): Promise<number> {
    let n = 0;
    let runId: string | undefined;
    for (;;) {
      const events = (await client.temporal.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
      const types = new Map<string, string>();
      for (const e of events) {
        const s = e.activityTaskScheduledEventAttributes;
        if (s && STATUS_ACTIVITIES.has(s.activityType?.name ?? '')) n += 1;
        if (s) types.set(String(e.eventId), s.activityType?.name ?? '');
      }
      runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
      if (!runId) return n;
    }
  }

  async function measure<T>(fn: () => Promise<T>): Promise<{ value: T; counted: Map<string, number> }> {
    // The server publishes its counters with a short delay: the calls before the case must land first too.
    await new Promise((r) => setTimeout(r, 3000));
    const before = await actions(metricsUrl);
    const value = await fn();
    // The server publishes its counters with a short delay; a few seconds let the last ones land.
    await new Promise((r) => setTimeout(r, 3000));
    return { value, counted: delta(before, await actions(metricsUrl)) };
  }

  function row(what: string, manifest: ExportManifest | undefined, counted: Map<string, number>, n: number): void {
    const all = total(counted);
    rows.push([
      what,
      all,
      manifest?.temporal?.actions ?? '',
      n || '',
      n ? (all / n).toFixed(2) : '',
      breakdown(counted),
    ]);
    process.stderr.write(`${what}: ${all} actions (${breakdown(counted)})\n`);
  }

  const cases: [string, ExportRequest][] = [
    ['altcraft', exportRequest('altcraft', { sourceType: 'database', sourceId: 1 })],
    [`altcraft, 3× the polls`, exportRequest('altcraft', { sourceType: 'database', sourceId: 4 })],
    [
      'apsis-segment',
      exportRequest('apsis-segment', { section: 'com.example.section', segments: ['com.example.segment'] }),
    ],
    ['mytracker', exportRequest('mytracker', { segmentId: 17 })],
    ['apsis-profile (callback path)', exportRequest('apsis-profile', { exportKey: 'bench@example.com' })],
  ];
  try {
    const marginal: { actions: number; polls: number }[] = [];
    for (const [label, { provider, input }] of cases) {
      sim.altcraft.config.taskDurationMs = label.includes('3×') ? 3 * jobMs : jobMs;
      const { value, counted } = await measure(async () => {
        const { workflowId } = await client.start(provider, input);
        return { workflowId, manifest: await client.result(workflowId) };
      });
      const n = provider === 'apsis-profile' ? 0 : await pollsOf(value.workflowId);
      row(label, value.manifest, counted, n);
      if (provider === 'altcraft') marginal.push({ actions: total(counted), polls: n });
    }
    const [short, long] = marginal as [{ actions: number; polls: number }, { actions: number; polls: number }];
    notes.push(
      `each poll more (altcraft, ${short.polls} → ${long.polls} polls): ${long.actions - short.actions} actions for ` +
        `${long.polls - short.polls} polls = **${((long.actions - short.actions) / (long.polls - short.polls)).toFixed(2)} per poll**`,
    );

    // A schedule tick: the schedule's own action plus the export it starts.
    const scheduleId = `bench-actions-${process.pid}`;
    await createExportSchedule(
      client.temporal,
      stack.taskQueue,
      scheduleId,
      'altcraft',
      { sourceType: 'database', sourceId: 2 },
      { every: '24h' },
    );
    const schedule = client.temporal.schedule.getHandle(scheduleId);
    const tick = await measure(async () => {
      await schedule.trigger();
      let workflowId: string | undefined;
      for (let i = 0; i < 100 && !workflowId; i++) {
        const recent = (await schedule.describe()).info.recentActions;
        const last = recent.at(-1)?.action;
        if (last && 'workflow' in last) workflowId = last.workflow.workflowId;
        else await new Promise((r) => setTimeout(r, 200));
      }
      if (!workflowId) throw new Error('the schedule started no export');
      return { workflowId, manifest: await client.result(workflowId) };
    });
    row('schedule tick (altcraft)', tick.value.manifest, tick.counted, await pollsOf(tick.value.workflowId));
    await schedule.delete();

    // `export --wait` over a long job: the CLI's own calls are the difference to the export alone.
    sim.altcraft.config.taskDurationMs = followS * 1000;
    const cli = path.join(__dirname, '..', 'bin', 'exportflow.cjs');
    const waited = await measure(
      () =>
        new Promise<{ code: number | null; ms: number; stdout: string }>((resolve, reject) => {
          const started = Date.now();
          const child = spawn(
            process.execPath,
            [cli, 'export', 'altcraft', '--source-type', 'database', '--source-id', '3', '--wait', '--json'],
            { env: { ...process.env, ...env, EXPORTFLOW_FROM_SOURCE: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
          );
          let stdout = '';
          child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          const timer = setTimeout(() => child.kill('SIGKILL'), (followS + 180) * 1000);
          child.on('error', reject);
          child.on('exit', (code) => {
            clearTimeout(timer);
            resolve({ code, ms: Date.now() - started, stdout });
          });
        }),
    );
    const manifest = JSON.parse(waited.value.stdout) as ExportManifest;
    const followed = await pollsOf(manifest.workflowId);
    row(`altcraft, ${followS} s job, followed by export --wait`, manifest, waited.counted, followed);
    const queries = [...waited.counted].filter(([k]) => /Query/.test(k)).reduce((a, [, v]) => a + v, 0);
    const minutes = waited.value.ms / 60_000;
    notes.push(
      `export --wait followed for ${(waited.value.ms / 1000).toFixed(0)} s (exit ${waited.value.code}): ` +
        `${queries} queries = **${(queries / minutes).toFixed(2)} actions per minute of following**`,
    );

    console.log(`\n## Temporal actions per export (bench/actions.ts)\n\n${describeMachine()}\n`);
    console.log(
      `Counted by the server: \`temporal server start-dev --metrics-port\`, the \`action\` counter of namespace ` +
        `default before and after each case (one case at a time). Poll ${POLL_INITIAL_MS / 1000}–${POLL_MAX_MS / 1000} s, ` +
        `jobs of about ${polls} polls (${jobMs / 1000} s), EXPORTFLOW_MAX_WAIT 30m, heartbeat timeout 30 s, one in-process ` +
        `worker. "manifest" is the export's own \`temporal.actions\` (from its history: no heartbeats, no queries).\n`,
    );
    printTable(['case', 'actions (server)', 'manifest', 'polls', 'per poll', 'by type'], rows);
    console.log('');
    for (const n of notes) console.log(`- ${n}`);
  } finally {
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
