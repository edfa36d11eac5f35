import { ExportClient } from '../client';
import { readConfig } from '../config';

/** Connects the CLI to Temporal, with a message that says what to do when nothing answers. */
export async function connectClient(): Promise<ExportClient> {
  const config = readConfig();
  try {
    return await ExportClient.connect({}, config);
  } catch (err) {
    throw new Error(
      `cannot reach Temporal at ${config.temporal.address}: ${(err as Error).message}. Start it with \`npx exportflow dev\` or set TEMPORAL_ADDRESS.`,
    );
  }
}

/** Runs `body` with a connected client and always closes it. */
export async function withClient<T>(body: (client: ExportClient) => Promise<T>): Promise<T> {
  const client = await connectClient();
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}
