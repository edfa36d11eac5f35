import type { Command } from 'commander';
import { readConfig, type Config } from '../config';
import { untilSignal } from '../util/signals';
import { AesGcmCodec } from '../temporal/codec';
import { CODEC_DEFAULT_ORIGINS, startCodecServer, type CodecServer } from '../temporal/codec-server';
import { UsageError } from './output';

/** Starts the codec endpoint with the configured keys, origins and token; a busy port is a clear error. */
export async function startConfiguredCodecServer(
  config: Config,
  listen = config.codecServer.listen,
  extraOrigins: string[] = [],
): Promise<CodecServer> {
  if (!/^[^\s:]+:\d{1,5}$/.test(listen)) throw new UsageError(`--listen: expected host:port, got "${listen}"`);
  try {
    return await startCodecServer({
      listen,
      codec: new AesGcmCodec(config.codecKeys),
      corsOrigins: [...(config.codecServer.corsOrigins ?? CODEC_DEFAULT_ORIGINS), ...extraOrigins],
      authToken: config.codecServer.authToken,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `codec server: ${listen} is already in use; choose another with --listen or EXPORTFLOW_CODEC_LISTEN`,
      );
    }
    throw err;
  }
}

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
      const server = await startConfiguredCodecServer(config, opts.listen);
      process.stderr.write(
        `codec server at ${server.url} (POST /encode, /decode; keys ${config.codecKeys.map((k) => k.id).join(', ')}` +
          `${config.codecServer.authToken ? '; bearer token required' : ''}). Ctrl-C stops it.\n`,
      );
      await untilSignal();
      await server.close();
    });
}
