import { Command, CommanderError } from 'commander';
import { version } from '../package.json';
import { ExportClient, ExportFailedError, InputError, type ProviderInput, type SupportedProvider } from './client';
import { ConfigError, loadDotenv, readConfig, type Config } from './config';
import { SIMULATOR_DEFAULT_PORT } from './dev/defaults';
import { createLogger } from './util/logger';
import { PROVIDER_SPECS } from './shared/provider-specs';
import { untilSignal } from './util/signals';
import { declareProviderOptions, inCliTerms, inputFromOptions } from './cli/export-options';
import { EXIT, UsageError, endQuietlyOnClosedPipe, printFailure, printManifest } from './cli/output';
import { registerOpsCommands } from './cli/ops-commands';
import { connectExportClient } from './cli/connect';
import { registerCodecCommand } from './cli/codec-command';
import { registerAccountsCommand } from './cli/accounts-command';
import { connectTemporal } from './temporal/connect';
import { EXPORT_EXAMPLES, PROGRAM_EXAMPLES, examplesText } from './cli/examples';
import { describeStatus, showProgress } from './cli/progress';
import { shutdownTracing, withCallerTraceContext } from './telemetry';

/**
 * The modules only some commands need, loaded when one of them runs: the worker package, the simulator and the
 * dev server cost about a second of CPU at every start of `export`, `status` and the rest, which need none.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loaded on use, typed as the module itself */
const HEAVY = {
  './dev/dev': () => require('./dev/dev') as typeof import('./dev/dev'),
  './worker': () => require('./worker') as typeof import('./worker'),
  './callbacks': () => require('./callbacks') as typeof import('./callbacks'),
  './simulator': () => require('./simulator') as typeof import('./simulator'),
};
/* eslint-enable @typescript-eslint/no-require-imports */
function load<K extends keyof typeof HEAVY>(name: K): ReturnType<(typeof HEAVY)[K]> {
  return HEAVY[name]() as ReturnType<(typeof HEAVY)[K]>;
}

/** Runs the `exportflow` command line and resolves with its exit status. */
export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedPipe();
  loadDotenv();
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => (exitCode = code));
  try {
    // TRACEPARENT (a caller's trace context) becomes the parent of everything this run starts.
    await withCallerTraceContext(() => program.parseAsync(argv, { from: 'user' }));
    return exitCode;
  } catch (err) {
    return reportError(err);
  } finally {
    await shutdownTracing();
  }
}

function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('exportflow')
    .description('Durable bulk exports from Altcraft, APSIS One and myTracker, run as Temporal workflows.')
    .version(version)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText('after', examplesText(PROGRAM_EXAMPLES));

  program
    .command('dev')
    .description('local Temporal dev server (unless one answers), worker and callback receiver, in the foreground')
    .option('--simulate', 'also start the vendor simulator and point every provider at it')
    .option('--simulator-port <port>', 'port for the simulator', String(SIMULATOR_DEFAULT_PORT))
    .action(async (opts: { simulate?: boolean; simulatorPort: string }) => {
      const config = configOrThrow();
      const logger = createLogger(config.logLevel, { service: 'exportflow' }, config.logFormat);
      const { runDev } = load('./dev/dev');
      setExit(
        await runDev(config, logger, {
          simulate: opts.simulate === true,
          simulatorPort: port(opts.simulatorPort, '--simulator-port'),
        }),
      );
    });

  program
    .command('server')
    .description('only the local Temporal dev server at TEMPORAL_ADDRESS (Web UI on 8233), in the foreground')
    .option('--ui-port <port>', 'port for the Web UI', '8233')
    .action(async (opts: { uiPort: string }) => {
      const uiPort = port(opts.uiPort, '--ui-port');
      const config = configOrThrow();
      const logger = createLogger(config.logLevel, { service: 'exportflow-server' }, config.logFormat);
      const { ensureLocalTemporal } = load('./dev/dev');
      const server = await ensureLocalTemporal(config, logger, { uiPort });
      if (!server) {
        process.stderr.write(`a Temporal server already answers at ${config.temporal.address}; nothing to start\n`);
        return;
      }
      process.stderr.write(`Temporal dev server at ${server.address}, Web UI ${server.uiUrl}. Ctrl-C stops it.\n`);
      await Promise.race([untilSignal(), new Promise((r) => server.child.once('exit', r))]);
      await server.stop();
    });

  program
    .command('worker')
    .description('only the worker (and the callback receiver), against TEMPORAL_ADDRESS')
    .action(async () => {
      const config = configOrThrow();
      const logger = createLogger(config.logLevel, { service: 'exportflow-worker' }, config.logFormat);
      const { startWorker } = load('./worker');
      const worker = await startWorker(config, logger);
      await Promise.race([untilSignal(), worker.done]);
      await worker.shutdown();
    });

  program
    .command('callbacks')
    .description('only the APSIS callback receiver on CALLBACK_LISTEN (stateless; run several if needed)')
    .action(async () => {
      const config = configOrThrow();
      const logger = createLogger(config.logLevel, { service: 'exportflow-callbacks' }, config.logFormat);
      // Proves the settings and credentials now, rather than at the first callback.
      await (await connectTemporal(config.temporal)).close();
      const { startCallbackService } = load('./callbacks');
      const receiver = await startCallbackService(config, logger);
      process.stderr.write(`APSIS callback receiver listening on ${receiver.address} (Ctrl-C stops it)\n`);
      await untilSignal();
      await receiver.close();
    });

  program
    .command('simulate')
    .description('only the vendor simulator (Altcraft, APSIS One, myTracker) on 127.0.0.1')
    .option('--port <port>', 'port to listen on', String(SIMULATOR_DEFAULT_PORT))
    .option('--account <name...>', 'also serve these named accounts, each with its own credentials')
    .action(async (opts: { port: string; account?: string[] }) => {
      const accounts = opts.account ?? [];
      const badName = accounts.find((a) => !/^[A-Za-z0-9_]{1,64}$/.test(a) || a.toLowerCase() === 'default');
      if (badName !== undefined)
        throw new UsageError(`--account: "${badName}" is not an account name (letters, digits, _)`);
      const { startSimulator, simulatorEnv, APSIS_DOCUMENTED_LIMITS } = load('./simulator');
      const sim = await startSimulator({ port: port(opts.port), accounts, apsis: { ...APSIS_DOCUMENTED_LIMITS } });
      const c = sim.credentials;
      const named = Object.entries(simulatorEnv(sim, accounts)).filter(([k]) => k.includes('__'));
      process.stderr.write(
        [
          `vendor simulator listening at ${sim.url} (Ctrl-C stops it). Point a worker at it with:`,
          `  ALTCRAFT_BASE_URL=${sim.url} ALTCRAFT_TOKEN=${c.altcraftToken}`,
          `  APSIS_BASE_URL=${sim.url} APSIS_CLIENT_ID=${c.apsisClientId} APSIS_CLIENT_SECRET=${c.apsisClientSecret}`,
          `  MYTRACKER_BASE_URL=${sim.url} MYTRACKER_API_USER_ID=${c.mytrackerUserId} MYTRACKER_API_SECRET=${c.mytrackerSecret}`,
          ...(named.length > 0 ? ['and for the named accounts:', ...named.map(([k, v]) => `  ${k}=${v}`)] : []),
          '',
        ].join('\n'),
      );
      await untilSignal();
      await sim.close();
    });

  const exportCmd = program
    .command('export')
    .description('start one export (see `exportflow export <provider> --help`)');
  for (const provider of Object.keys(PROVIDER_SPECS) as SupportedProvider[]) {
    const sub = exportCmd
      .command(provider)
      .description(`start an export from ${provider}`)
      .option('--id <workflowId>', 'workflow id to use (starting twice with one id is idempotent)')
      .option('--wait', 'show progress and print the manifest at the end')
      .option('--json', 'machine-readable output on stdout')
      .addHelpText('after', examplesText(EXPORT_EXAMPLES[provider]));
    declareProviderOptions(provider, sub).action(
      async (opts: Record<string, string | undefined> & { wait?: boolean; json?: boolean }) => {
        const raw = inputFromOptions(provider, opts);
        let input: ProviderInput<SupportedProvider>;
        try {
          input = ExportClient.checkInput(provider, raw);
          // Checked before connecting, so a bad --id is exit 2 even when Temporal cannot be reached.
          if (opts.id !== undefined) ExportClient.validateWorkflowId(opts.id);
        } catch (err) {
          if (err instanceof InputError) throw inCliTerms(err);
          throw err;
        }
        const client = await connectExportClient();
        try {
          const started = await client
            .start(provider, input, opts.id !== undefined ? { workflowId: opts.id } : {})
            .catch((err: unknown) => {
              throw err instanceof InputError ? inCliTerms(err) : err;
            });
          if (!opts.wait) {
            process.stdout.write(
              opts.json
                ? `${JSON.stringify({ workflowId: started.workflowId, existing: started.existing })}\n`
                : `${started.workflowId}\n`,
            );
            return;
          }
          setExit(await waitAndPrint(client, started.workflowId, opts.json === true));
        } finally {
          await client.close();
        }
      },
    );
  }

  program
    .command('status <workflowId>')
    .description('phase, vendor progress, bytes and files so far')
    .option('--json', 'machine-readable output')
    .option('--watch', 'follow it until it ends (history long-poll: about two billable actions per export)')
    .action(async (workflowId: string, opts: { json?: boolean; watch?: boolean }) => {
      const client = await connectExportClient();
      try {
        if (opts.watch) {
          const header = `following export ${workflowId} (Ctrl-C stops following, not the export)`;
          setExit(await waitAndPrint(client, workflowId, opts.json === true, header));
          return;
        }
        const status = await client.status(workflowId);
        if (opts.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        else if (status.manifest) printManifest(status.manifest, false);
        else if (status.error)
          process.stdout.write(`${status.execution.toLowerCase()}: ${status.error.type}: ${status.error.message}\n`);
        else process.stdout.write(`${describeStatus(status)}\n`);
      } finally {
        await client.close();
      }
    });

  program
    .command('result <workflowId>')
    .description('wait for the export to end and print its manifest')
    .option('--json', 'the manifest JSON alone on stdout')
    .action(async (workflowId: string, opts: { json?: boolean }) => {
      const client = await connectExportClient();
      try {
        setExit(await waitAndPrint(client, workflowId, opts.json === true, false));
      } finally {
        await client.close();
      }
    });

  program
    .command('cancel <workflowId>')
    .description('cancel an export; its partial files are removed')
    .action(async (workflowId: string) => {
      const client = await connectExportClient();
      try {
        await client.cancel(workflowId);
        process.stderr.write(`cancellation requested for ${workflowId}\n`);
      } finally {
        await client.close();
      }
    });

  registerOpsCommands(program);
  registerAccountsCommand(program, setExit);
  registerCodecCommand(program);
  return program;
}

async function waitAndPrint(
  client: ExportClient,
  workflowId: string,
  json: boolean,
  progress: boolean | string = true,
): Promise<number> {
  const display = progress
    ? showProgress(client, workflowId, ...(typeof progress === 'string' ? [progress] : []))
    : null;
  try {
    const manifest = await client.result(workflowId);
    display?.stop();
    printManifest(manifest, json);
    return EXIT.ok;
  } catch (err) {
    display?.stop();
    if (err instanceof ExportFailedError) return printFailure(err, json);
    throw err;
  }
}

function configOrThrow(): Config {
  return readConfig();
}

function port(text: string, flag = '--port'): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`${flag}: expected a port number 0-65535, got "${text}"`);
  return n;
}

function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0)
      return EXIT.ok;
    return EXIT.usage;
  }
  if (err instanceof UsageError || err instanceof InputError || err instanceof ConfigError) {
    process.stderr.write(`exportflow: ${err.message}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`exportflow: ${(err as Error)?.message ?? String(err)}\n`);
  return EXIT.failed;
}
