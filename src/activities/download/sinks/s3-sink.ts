import { Transform } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ClassifiedError } from '../../../providers/errors';
import { FAILURE_TYPES } from '../../../shared/failure-types';
import { formatS3Uri, parseS3Uri, s3Child, type S3Location } from '../../../util/s3-uri';
import type { FileSink } from '../types';

/** 8 MiB parts, two in flight: about 24 MiB of buffers per upload, whatever the file size. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
/** How long a failed attempt waits for S3 to confirm the multipart upload was aborted. */
const ABORT_WAIT_MS = 30_000;

let cachedClient: S3Client | undefined;

/**
 * One S3 client per process, configured the standard AWS way: AWS_ENDPOINT_URL(_S3), AWS_REGION and the default
 * credential chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles, ...). Credentials are never logged.
 */
export function s3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  if (cachedClient) return cachedClient;
  // The SDK prints a plain-text Node-version notice on stderr, which would break the worker's JSON log lines.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  cachedClient = new S3Client({
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    endpoint,
    // S3-compatible servers (SeaweedFS, MinIO, ...) at a custom endpoint address buckets by path.
    forcePathStyle: endpoint !== undefined,
  });
  return cachedClient;
}

function location(uri: string): S3Location {
  const parsed = parseS3Uri(uri);
  if (!parsed)
    throw new ClassifiedError(FAILURE_TYPES.storage, `${uri} is not a valid s3://bucket/prefix location`, false);
  return parsed;
}

/**
 * An object written by multipart upload (`@aws-sdk/lib-storage`): parts are uploaded while the body streams, and
 * the upload is completed only when the verified stream ends, so the key never holds a partial file. A failed
 * attempt aborts the upload. Resume restarts the object from byte 0 (the parts of a killed worker are aborted).
 */
export class S3ObjectSink implements FileSink {
  private readonly target: S3Location;
  private body: Transform | undefined;
  private done: Promise<unknown> | undefined;

  constructor(dir: string, fileName: string) {
    this.target = s3Child(location(dir), fileName);
  }

  async usableResume(): Promise<undefined> {
    await abortUploads(this.target, true).catch(() => undefined);
    return undefined;
  }

  // eslint-disable-next-line require-yield
  async *readStored(): AsyncIterable<Buffer> {
    return;
  }

  async open(_offset: number, contentType: string): Promise<{ stream: Transform; written(): number }> {
    let written = 0;
    const body = new Transform({
      highWaterMark: 1024 * 1024,
      transform(chunk: Buffer, _enc, done) {
        written += chunk.length;
        done(null, chunk);
      },
    });
    const upload = new Upload({
      client: s3Client(),
      params: { Bucket: this.target.bucket, Key: this.target.key, Body: body, ContentType: contentType },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    this.body = body;
    this.done = upload.done();
    // A failed upload stops reading the body: fail the stream too, or the download would wait forever.
    this.done.catch((err: unknown) => body.destroy(s3Failure(err, `upload to ${this.uri()}`)));
    return { stream: body, written: () => written };
  }

  async commit(): Promise<string> {
    try {
      await this.done;
    } catch (err) {
      throw s3Failure(err, `upload to ${this.uri()}`);
    }
    return this.uri();
  }

  async discard(_keepForResume: boolean, reason: Error): Promise<void> {
    const body = this.body;
    if (!body || !this.done) return;
    // Failing the body makes lib-storage abort the multipart upload before done() settles.
    if (!body.destroyed) body.destroy(reason);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.done.catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, ABORT_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  private uri(): string {
    return formatS3Uri(this.target);
  }
}

/** Deletes every object and aborts every unfinished upload under `s3://bucket/prefix/<dir>/`. */
export async function removeS3Directory(dirUri: string): Promise<{ removed: boolean }> {
  const dir = location(dirUri);
  const client = s3Client();
  const prefix = `${dir.key}/`;
  let removed = false;
  try {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: dir.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length > 0) {
        await client.send(new DeleteObjectsCommand({ Bucket: dir.bucket, Delete: { Objects: keys, Quiet: true } }));
        removed = true;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    await abortUploads({ bucket: dir.bucket, key: prefix }, false);
  } catch (err) {
    throw s3Failure(err, `removing ${formatS3Uri(dir)}/`);
  }
  return { removed };
}

/** Aborts unfinished multipart uploads of one key (exact) or under a prefix (left by killed workers). */
async function abortUploads(target: S3Location, exact: boolean): Promise<void> {
  const client = s3Client();
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (let page = 0; page < 100; page++) {
    const list = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: target.bucket,
        Prefix: target.key,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
    for (const upload of list.Uploads ?? []) {
      if (!upload.Key || !upload.UploadId || (exact && upload.Key !== target.key)) continue;
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: upload.Key, UploadId: upload.UploadId }),
      );
    }
    if (!list.IsTruncated) return;
    keyMarker = list.NextKeyMarker;
    uploadIdMarker = list.NextUploadIdMarker;
  }
}

/** S3 errors: 4xx (no bucket, access denied) are final StorageErrors; network trouble and 5xx are retried. */
export function s3Failure(err: unknown, what: string): ClassifiedError {
  if (err instanceof ClassifiedError) return err;
  const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  const final = status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
  const reason = `${e?.name ?? e?.code ?? 'Error'}: ${e?.message ?? String(err)}`;
  return new ClassifiedError(
    FAILURE_TYPES.storage,
    `S3 ${what} failed (${status ? `HTTP ${status}, ` : ''}${reason})`,
    !final,
    status ? { status } : {},
  );
}
