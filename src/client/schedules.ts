import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
  type ScheduleSummary,
} from '@temporalio/client';
import { z } from 'zod';
import { ExportClient, InputError } from '../client';
import { describeIssues, type Timing } from '../shared/inputs';
import type { ProviderInput, SupportedProvider } from '../shared/provider-specs';
import { exportStartOptions } from './start-options';
import { parseDuration } from '../util/duration';

/** How a recurring export runs: a cron or an interval, with Temporal Schedule policies. */
export const ScheduleSpecSchema = z
  .object({
    cron: z
      .string()
      .trim()
      .regex(/^(\S+\s+){4,6}\S+$|^@\w+$/, 'expected a cron expression such as "0 3 * * *" or @daily')
      .optional(),
    every: z
      .string()
      .refine(
        (v) => safeDuration(v) !== undefined && safeDuration(v)! >= 1000,
        'expected a duration of at least 1s such as 15m or 1h',
      )
      .optional(),
    timezone: z
      .string()
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'expected an IANA time zone such as Europe/Berlin')
      .optional(),
    overlap: z
      .enum(['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all'], {
        message: 'expected skip, buffer-one, buffer-all, cancel-other, terminate-other or allow-all',
      })
      .default('skip'),
    catchupWindow: z
      .string()
      .refine((v) => safeDuration(v) !== undefined && safeDuration(v)! >= 10_000, 'expected a duration of at least 10s')
      .default('10m'),
    paused: z.boolean().default(false),
    triggerNow: z.boolean().default(false),
    note: z.string().max(500).optional(),
  })
  .strict()
  .refine((s) => (s.cron === undefined) !== (s.every === undefined), {
    message: 'give exactly one of cron or every',
    path: ['cron'],
  });
export type ScheduleSpecInput = z.input<typeof ScheduleSpecSchema>;

const SCHEDULE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function safeDuration(text: string): number | undefined {
  try {
    return parseDuration(text);
  } catch {
    return undefined;
  }
}

const OVERLAP = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
} as const;

/**
 * Creates a Temporal Schedule that starts `provider` exports. Each run's workflow id is
 * `export-<provider>-<scheduleId>-<scheduled time>` (Temporal appends the time), so each run writes into its own
 * directory. By default a run is skipped while the previous one is still going.
 */
export async function createExportSchedule<P extends SupportedProvider>(
  client: Client,
  taskQueue: string,
  scheduleId: string,
  provider: P,
  input: ProviderInput<P>,
  specInput: ScheduleSpecInput,
  timing: Timing = {},
): Promise<void> {
  if (!SCHEDULE_ID.test(scheduleId)) {
    throw new InputError('scheduleId: 1-100 letters, digits, dot, dash or underscore, starting with a letter or digit');
  }
  const parsedInput = ExportClient.validate(provider, input);
  const parsed = ScheduleSpecSchema.safeParse(specInput);
  if (!parsed.success) throw new InputError(describeIssues(parsed.error));
  const spec = parsed.data;
  const options: ScheduleOptions = {
    scheduleId,
    spec: {
      ...(spec.cron ? { cronExpressions: [spec.cron] } : { intervals: [{ every: parseDuration(spec.every!) }] }),
      ...(spec.timezone ? { timezone: spec.timezone } : {}),
    },
    action: {
      type: 'startWorkflow',
      ...exportStartOptions(provider, input, parsedInput, {
        taskQueue,
        workflowId: `export-${provider}-${scheduleId}`,
        timing,
        summaryNote: `schedule ${scheduleId}`,
      }),
    },
    policies: { overlap: OVERLAP[spec.overlap], catchupWindow: parseDuration(spec.catchupWindow) },
    state: { paused: spec.paused, ...(spec.note ? { note: spec.note } : {}) },
  };
  const handle = await client.schedule.create(options);
  // Not `triggerImmediately`: that run is not covered by the overlap policy, so the next tick could overlap it.
  if (spec.triggerNow) await handle.trigger(OVERLAP[spec.overlap]);
}

export interface ScheduleListing {
  scheduleId: string;
  workflowType: string | null;
  spec: string;
  paused: boolean;
  nextRuns: string[];
  recentRuns: { scheduledAt: string; workflowId: string }[];
}

/** Lists schedules (exportflow's and any other in the namespace) with their next and recent runs. */
export async function listSchedules(client: Client): Promise<ScheduleListing[]> {
  const out: ScheduleListing[] = [];
  for await (const s of client.schedule.list()) out.push(summarize(s));
  return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

function summarize(s: ScheduleSummary): ScheduleListing {
  const spec = s.spec ?? {};
  const parts = [
    ...(spec.calendars ?? []).map((c) => `calendar ${JSON.stringify(c)}`),
    ...(spec.intervals ?? []).map((i) => `every ${Number(i.every) / 1000}s`),
  ];
  return {
    scheduleId: s.scheduleId,
    workflowType: s.action?.type === 'startWorkflow' ? s.action.workflowType : null,
    spec: `${parts.join('; ') || 'unknown'}${spec.timezone ? ` (${spec.timezone})` : ''}`,
    paused: s.state.paused,
    nextRuns: (s.info.nextActionTimes ?? []).slice(0, 3).map((d) => d.toISOString()),
    recentRuns: (s.info.recentActions ?? []).slice(-5).map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      workflowId: a.action.type === 'startWorkflow' ? a.action.workflow.workflowId : '',
    })),
  };
}

/** Pause, unpause, trigger or delete one schedule; a missing schedule is a clear error. */
export async function changeSchedule(
  client: Client,
  scheduleId: string,
  action: 'pause' | 'unpause' | 'trigger' | 'delete' | 'describe',
): Promise<ScheduleDescription | void> {
  const handle = client.schedule.getHandle(scheduleId);
  try {
    switch (action) {
      case 'pause':
        return await handle.pause('paused with exportflow');
      case 'unpause':
        return await handle.unpause('unpaused with exportflow');
      case 'trigger':
        return await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
      case 'delete':
        return await handle.delete();
      case 'describe':
        return await handle.describe();
    }
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new InputError(`scheduleId: no schedule named "${scheduleId}"`);
    throw err;
  }
}
