import { Command, CommanderError } from 'commander';
import { ExportClient, InputError, PROVIDER_SPECS, type ProviderInput, type SupportedProvider } from '../client';
import { readConfig } from '../config';
import { changeSchedule, createExportSchedule, listSchedules, type ScheduleSpecInput } from '../client/schedules';
import { isSupportedProvider } from '../shared/provider-specs';
import { ensureSearchAttributes } from '../temporal/setup';
import { applyVendorQueueConfigs, vendorQueueConfigs } from '../quota/task-queue-config';
import { vendorTaskQueue } from '../shared/contract';
import { withClient } from './connect';
import { declareProviderOptions, inCliTerms, inputFromOptions } from './export-options';
import { UsageError } from './output';

/**
 * Parses the `export <provider> [options]` words after `--` in `schedule create`, with the same options and
 * validation as `exportflow export`.
 */
export function parseExportArgs(words: string[]): {
  provider: SupportedProvider;
  input: ProviderInput<SupportedProvider>;
} {
  if (words[0] !== 'export')
    throw new UsageError('schedule create: expected `-- export <provider> [options]` after the schedule options');
  const provider = words[1] ?? '';
  if (!isSupportedProvider(provider)) {
    throw new UsageError(
      `schedule create: unknown provider "${provider}" (expected one of ${Object.keys(PROVIDER_SPECS).join(', ')})`,
    );
  }
  const cmd = declareProviderOptions(provider, new Command(provider))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  try {
    cmd.parse(words.slice(2), { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError)
      throw new UsageError(`export ${provider}: ${err.message.replace(/^error: /, '')}`);
    throw err;
  }
  try {
    return { provider, input: ExportClient.checkInput(provider, inputFromOptions(provider, cmd.opts())) };
  } catch (err) {
    if (err instanceof InputError) throw inCliTerms(err);
    throw err;
  }
}

const SCHEDULE_FLAGS: Record<string, string> = {
  cron: '--cron',
  every: '--every',
  timezone: '--timezone',
  overlap: '--overlap',
  catchupWindow: '--catchup-window',
  scheduleId: '<scheduleId>',
};

function scheduleError(err: unknown): unknown {
  if (!(err instanceof InputError)) return err;
  return new UsageError(
    err.message.replace(/(^|; )([A-Za-z]+):/g, (w, sep: string, f: string) =>
      SCHEDULE_FLAGS[f] ? `${sep}${SCHEDULE_FLAGS[f]}:` : w,
    ),
  );
}

/** `setup`, `list` and `schedule …`: what operators use beyond single exports. */
export function registerOpsCommands(program: Command): void {
  program
    .command('setup')
    .description(
      "register exportflow's search attributes on TEMPORAL_NAMESPACE (needs operator rights; otherwise prints the commands) and set the vendor quotas on its task queues",
    )
    .action(async () => {
      await withClient(async (client) => {
        const config = readConfig();
        const added = await ensureSearchAttributes(client.temporal.connection, config.temporal.namespace);
        process.stderr.write(
          added.length
            ? `registered search attributes: ${added.join(', ')}\n`
            : 'search attributes already registered\n',
        );
        let configs;
        try {
          configs = vendorQueueConfigs((vendor) => vendorTaskQueue(config.taskQueue, vendor));
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        const quotas = await applyVendorQueueConfigs(
          client.temporal.connection.workflowService,
          config.temporal.namespace,
          configs,
        );
        for (const c of quotas.applied) {
          process.stderr.write(`${c.taskQueue}: ${c.queueRps}/s in all, ${c.keyRps}/s per account\n`);
        }
        for (const problem of quotas.missing) process.stderr.write(`warning: ${problem}\n`);
      });
    });

  program
    .command('list')
    .description('recent exports with their phase and provider (from Temporal visibility)')
    .option('--provider <provider>', 'only this provider')
    .option('--account <name>', 'only exports from this vendor account (ExportAccount)')
    .option('--phase <phase>', 'only this phase (creating, waiting, downloading, completed, failed, cancelled)')
    .option('--limit <n>', 'at most this many', '20')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  exportflow list --provider altcraft --phase waiting')
    .action(async (opts: { provider?: string; account?: string; phase?: string; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new UsageError(`--limit: expected 1-1000, got "${opts.limit}"`);
      if (opts.account !== undefined && !/^[A-Za-z0-9_]{1,64}$/.test(opts.account))
        throw new UsageError(`--account: expected an account name of letters, digits and _, got "${opts.account}"`);
      await withClient(async (client) => {
        const rows = await client.list({ provider: opts.provider, account: opts.account, phase: opts.phase, limit });
        if (opts.json) return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        if (rows.length === 0) return void process.stdout.write('no exports found\n');
        for (const r of rows) {
          process.stdout.write(
            `${r.workflowId}  ${r.provider ?? '?'}${r.account && r.account !== 'default' ? ` (${r.account})` : ''}  ${r.phase ?? r.execution.toLowerCase()}  ${r.bytes ?? 0} bytes  started ${r.startedAt}${r.remoteId ? `  vendor ${r.remoteId}` : ''}\n`,
          );
        }
      });
    });

  const schedule = program.command('schedule').description('recurring exports on Temporal Schedules');
  schedule
    .command('create <scheduleId> [exportArgs...]')
    .description('create a schedule: exportflow schedule create <id> --cron "<expr>" -- export <provider> [options]')
    .option('--cron <expr>', 'cron expression, e.g. "0 3 * * *"')
    .option('--every <duration>', 'interval instead of cron, e.g. 15m')
    .option('--timezone <tz>', 'IANA time zone for the cron, e.g. Europe/Berlin')
    .option('--overlap <policy>', 'skip | buffer-one | buffer-all | cancel-other | terminate-other | allow-all', 'skip')
    .option('--catchup-window <duration>', 'how late a missed run may still start after an outage', '10m')
    .option('--paused', 'create it paused')
    .option('--trigger-now', 'also run once right away')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nExamples:\n  exportflow schedule create nightly-db1 --cron "0 3 * * *" --timezone Europe/Berlin -- export altcraft --source-type database --source-id 1\n  exportflow schedule create every-15m --every 15m --trigger-now -- export altcraft --source-type segment --source-id 7',
    )
    .action(async (scheduleId: string, exportArgs: string[], opts: Record<string, string | boolean | undefined>) => {
      const { provider, input } = parseExportArgs(exportArgs);
      const config = readConfig();
      await withClient(async (client) => {
        await createExportSchedule(
          client.temporal,
          client.taskQueue,
          scheduleId,
          provider,
          input,
          {
            cron: opts.cron as string | undefined,
            every: opts.every as string | undefined,
            timezone: opts.timezone as string | undefined,
            // The schedule's schema checks the word and names the flag's values when it is wrong.
            overlap: opts.overlap as ScheduleSpecInput['overlap'],
            catchupWindow: opts.catchupWindow as string,
            paused: opts.paused === true,
            triggerNow: opts.triggerNow === true,
          },
          {
            pollInitialMs: config.timing.pollInitialMs,
            pollMaxMs: config.timing.pollMaxMs,
            maxWaitMs: config.timing.maxWaitMs,
            heartbeatTimeoutMs: config.timing.heartbeatTimeoutMs,
          },
        ).catch((err: unknown) => {
          throw scheduleError(err);
        });
        if (opts.json) process.stdout.write(`${JSON.stringify({ scheduleId, provider })}\n`);
        else
          process.stderr.write(
            `schedule ${scheduleId} created: runs start workflows export-${provider}-${scheduleId}-<time>\n`,
          );
      });
    });

  schedule
    .command('list')
    .description('schedules with their spec, next and recent runs')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      await withClient(async (client) => {
        const rows = await listSchedules(client.temporal);
        if (opts.json) return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        if (rows.length === 0) return void process.stdout.write('no schedules\n');
        for (const r of rows) {
          process.stdout.write(
            `${r.scheduleId}  ${r.workflowType ?? '?'}  ${r.spec}${r.paused ? '  (paused)' : ''}  next: ${r.nextRuns[0] ?? '-'}  recent runs: ${r.recentRuns.length}\n`,
          );
        }
      });
    });

  for (const action of ['delete', 'pause', 'unpause', 'trigger'] as const) {
    schedule
      .command(`${action} <scheduleId>`)
      .description(
        {
          delete: 'delete a schedule (running exports go on)',
          pause: 'pause a schedule',
          unpause: 'resume a paused schedule',
          trigger: 'run a schedule once now',
        }[action],
      )
      .action(async (scheduleId: string) => {
        await withClient(async (client) => {
          await changeSchedule(client.temporal, scheduleId, action).catch((err: unknown) => {
            throw scheduleError(err);
          });
          process.stderr.write(`schedule ${scheduleId}: ${action} done\n`);
        });
      });
  }
}
