import type { Command } from 'commander';
import { readConfig } from '../config';
import { untilSignal } from '../util/signals';
import { startKeyedCodecServer } from '../temporal/codec-server';
import { UsageError } from './output';

/** `exportflow codec-server [--listen host:port]`: the remote codec for the Temporal Web UI and CLI. */
export function registerCodecCommand(program: Command): void {
  program
    .command('codec-server')
    .description(
      'remote codec endpoint (POST /encode, /decode) for the Temporal Web UI and CLI, with EXPORTFLOW_CODEC_KEYS',
    )
    .option('--listen <host:port>', 'where to listen (default EXPORTFLOW_CODEC_LISTEN or 127.0.0.1:8888)')
    .addHelpText(
      'after',
      '\nThe Web UI calls it from the browser: start the UI with --ui-codec-endpoint http://127.0.0.1:8888 (exportflow dev\n' +
        'does), or set it under Data Encoder in the UI. CORS origins: EXPORTFLOW_CODEC_CORS_ORIGINS (default the dev UI,\n' +
        'http://localhost:8233 and http://127.0.0.1:8233). With EXPORTFLOW_CODEC_AUTH_TOKEN set, calls need\n' +
        '`Authorization: Bearer <token>` (temporal workflow show --codec-endpoint ... --codec-auth "Bearer <token>").',
    )
    .action(async (opts: { listen?: string }) => {
      const config = readConfig();
      if (config.codecKeys.length === 0) {
        throw new UsageError('EXPORTFLOW_CODEC_KEYS: not set; the codec server decodes with those keys');
      }
      const listen = opts.listen ?? config.codecServer.listen;
      if (!/^[^\s:]+:\d{1,5}$/.test(listen)) throw new UsageError(`--listen: expected host:port, got "${listen}"`);
      const server = await startKeyedCodecServer({ ...config.codecServer, listen, keys: config.codecKeys });
      process.stderr.write(
        `codec server at ${server.url} (POST /encode, /decode; keys ${config.codecKeys.map((k) => k.id).join(', ')}` +
          `${config.codecServer.authToken ? '; bearer token required' : ''}). Ctrl-C stops it.\n`,
      );
      await untilSignal();
      await server.close();
    });
}
