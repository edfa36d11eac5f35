import { Client, type Connection, WorkflowNotFoundError } from '@temporalio/client';
import { callbackSecret, type Config } from '../config';
import { lazyClientConnection } from '../temporal/connect';
import { exportflowDataConverter } from '../temporal/data-converter';
import type { Logger } from '../util/logger';
import { apsisCallbackSignal } from '../shared/contract';
import { startCallbackReceiver, type CallbackDelivery, type CallbackReceiver } from './receiver';

export { callbackUrlFor } from '../providers/apsis/callback-url';
export type { CallbackReceiver } from './receiver';

const SIGNAL_DEADLINE_MS = 10_000;

/** Delivers callbacks as `apsisCallback` signals; connects to Temporal on first use, so it starts without it. */
export function temporalDelivery(config: Config): CallbackDelivery & { close(): Promise<void> } {
  let connection: Connection | undefined;
  let client: Client | undefined;
  const temporal = (): { connection: Connection; client: Client } => {
    connection ??= lazyClientConnection(config.temporal);
    // The callback rides in a signal: encrypted like every other payload when EXPORTFLOW_CODEC_KEYS is set.
    client ??= new Client({
      connection,
      namespace: config.temporal.namespace,
      dataConverter: exportflowDataConverter(config.codecKeys),
    });
    return { connection, client };
  };
  return {
    async deliver(workflowId, callback) {
      const { connection: conn, client: c } = temporal();
      try {
        // A signal sent before the workflow waits is queued in its history, never lost.
        await conn.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () =>
          c.workflow.getHandle(workflowId).signal(apsisCallbackSignal, callback),
        );
        return 'signalled';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return 'closed';
        throw err;
      }
    },
    async close() {
      await connection?.close();
    },
  };
}

/**
 * The callback receiver as the worker and `exportflow callbacks` run it: listens on CALLBACK_LISTEN, verifies
 * tokens with the callback secret, signals workflows through Temporal.
 */
export async function startCallbackService(config: Config, logger: Logger): Promise<CallbackReceiver> {
  const delivery = temporalDelivery(config);
  const receiver = await startCallbackReceiver({
    listen: config.callbacks.listen,
    secret: callbackSecret(config),
    delivery,
    logger,
    // Every APSIS account's host (a named account may be on APAC while default is on EU).
    dataOrigin: [...new Set([config.apsis.baseUrl, ...Object.values(config.accounts.apsis).map((a) => a.baseUrl)])].map(
      (url) => new URL(url).origin,
    ),
  }).catch(async (err: NodeJS.ErrnoException) => {
    await delivery.close();
    if (err?.code !== 'EADDRINUSE') throw err;
    throw new Error(
      `CALLBACK_LISTEN ${config.callbacks.listen} is already in use (another worker, or \`exportflow dev\`?). ` +
        'Give each worker on this machine its own CALLBACK_LISTEN, e.g. 127.0.0.1:8788.',
    );
  });
  return {
    address: receiver.address,
    async close() {
      await receiver.close();
      await delivery.close();
    },
  };
}

/**
 * The worker's config with CALLBACK_PUBLIC_URL pointing at the receiver's bound address, when it was left to
 * default to `http://<CALLBACK_LISTEN>` (so `127.0.0.1:0` works in tests). An explicit public URL is kept.
 */
export function withBoundCallbackUrl(config: Config, boundAddress: string): Config {
  if (config.callbacks.publicUrl !== `http://${config.callbacks.listen}`) return config;
  return { ...config, callbacks: { ...config.callbacks, publicUrl: `http://${boundAddress}` } };
}
