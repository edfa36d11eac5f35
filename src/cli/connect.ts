import { ExportClient } from '../client';
import { readConfig } from '../config';

/**
 * Connects the CLI to Temporal with the one connection factory (environment configuration, TLS, API key, codec).
 * Bad settings throw ConfigError (exit 2) before dialling; a refused or silent server throws TemporalConnectError
 * (exit 1) saying which.
 */
export async function connectExportClient(): Promise<ExportClient> {
  return ExportClient.connect({}, readConfig());
}

/** Runs `body` with a connected client and always closes it. */
export async function withClient<T>(body: (client: ExportClient) => Promise<T>): Promise<T> {
  const client = await connectExportClient();
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}
