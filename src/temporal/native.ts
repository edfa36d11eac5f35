import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { connectAndProve } from './connect';
import type { TemporalSettings } from './settings';

// Apart from connect.ts so that ExportClient users do not load the worker package.

/** Options for a worker NativeConnection (Core) from the settings. */
export function nativeConnectionOptions(settings: TemporalSettings): NativeConnectionOptions {
  return {
    address: settings.address,
    tls: settings.tls,
    ...(settings.apiKey !== undefined ? { apiKey: settings.apiKey } : {}),
    ...(settings.metadata ? { metadata: settings.metadata } : {}),
  };
}

/** Connects the worker's NativeConnection and proves it the same way as a client connection. */
export function connectNative(settings: TemporalSettings): Promise<NativeConnection> {
  return connectAndProve(settings, () => NativeConnection.connect(nativeConnectionOptions(settings)));
}
