import path from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

/**
 * History <-> proto JSON (the format of `temporal workflow show --output json` and the Web UI's download).
 *
 * `historyToJSON`/`historyFromJSON` from @temporalio/common do exactly this, but in this install they throw
 * "type must be a Type": @temporalio/common and @temporalio/proto each get their own copy of protobufjs 8, so
 * common's protojson does not recognise proto's message types. Taking protojson from the copy that
 * @temporalio/proto itself resolves keeps the two in step however npm lays out node_modules.
 */
type ProtoJson = {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(
  require.resolve('protobufjs/ext/protojson', { paths: [path.dirname(require.resolve('@temporalio/proto'))] }),
) as ProtoJson;

type History = proto.temporal.api.history.v1.IHistory;
const HistoryMessage = proto.temporal.api.history.v1.History;
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType(
  'temporal.api.history.v1.History',
);

export function historyToJSON(history: History): string {
  return JSON.stringify(protojson.toJson(historyType, HistoryMessage.fromObject(history)), null, 2);
}

/** Parses proto JSON written by historyToJSON or the Temporal CLI; unknown fields (newer servers) are ignored. */
export function historyFromJSON(json: unknown): History {
  const parsed = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!parsed) throw new TypeError('not a workflow history');
  return parsed as History;
}
