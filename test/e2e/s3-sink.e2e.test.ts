import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { downloadToFile, type DownloadSpec } from '../../src/activities/download/engine';
import { removeS3Directory } from '../../src/activities/download/sinks/s3-sink';
import { ClassifiedError } from '../../src/providers/errors';
import { csvBytesOf, csvInfo, type Simulator } from '../../src/simulator';
import { runCli, waitFor, type WorkerProcess } from '../helpers/processes';
import { startSeaweedS3, type SeaweedS3 } from '../helpers/seaweedfs';
import { startStack, type TestStack } from '../helpers/stack';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

/**
 * EXPORT_DIR=s3://bucket/prefix against a real S3-compatible server (SeaweedFS, started here): files stream by
 * multipart upload, appear under their key only when complete and verified, failed attempts leave no object and
 * no unfinished upload, and cancel removes the export's objects.
 */
describe('S3 sink (SeaweedFS)', () => {
  let s3: SeaweedS3;
  let server: http.Server;
  let base: string;
  // 12 MB: more than one 8 MiB part, so the multipart path (not a single PUT) is what runs.
  const big = csvBytesOf('s3-sink', 160_000);
  const bigGz = zlib.gzipSync(big, { level: 1 });

  before(async () => {
    s3 = await startSeaweedS3();
    Object.assign(process.env, s3.env); // the engine's S3 client reads the standard AWS variables
    server = http.createServer((req, res) => {
      const mode = req.url!.slice(1);
      if (mode === 'truncated') {
        res.writeHead(200, { 'content-length': big.length });
        res.write(big.subarray(0, 10 * 1024 * 1024));
        return setTimeout(() => res.destroy(), 50);
      }
      if (mode === 'badgzip') {
        const cut = bigGz.subarray(0, bigGz.length - 100);
        return res.writeHead(200, { 'content-length': cut.length }).end(cut);
      }
      res.writeHead(200, { 'content-length': big.length, 'content-type': 'text/csv', etag: '"v1"' });
      res.end(big);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((r) => server?.close(() => r()));
    await s3?.stop();
  });

  const keysUnder = async (prefix: string) =>
    ((await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }))).Contents ?? []).map(
      (o) => o.Key,
    );
  const uploadsUnder = async (prefix: string) =>
    (await s3.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: prefix }))).Uploads ?? [];
  const objectBytes = async (key: string) =>
    (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).Body!.transformToByteArray();

  const spec = (mode: string, prefix: string, fileName = 'data.csv'): DownloadSpec => ({
    vendor: 'altcraft',
    url: `${base}/${mode}`,
    headers: {},
    dir: `s3://${s3.bucket}/${prefix}`,
    fileName,
    countCsvRows: true,
  });

  test('a file streams into the bucket by multipart upload; the manifest has its s3:// URI and sha256', async () => {
    const out = await downloadToFile(spec('plain', 'engine/wf-plain'));
    assert.ok(out.ready);
    assert.equal(out.file.path, `s3://${s3.bucket}/engine/wf-plain/data.csv`);
    assert.equal(out.file.bytes, big.length);
    assert.equal(out.file.sha256, sha(big));
    assert.equal(out.file.rows, 160_000);
    assert.equal(sha(await objectBytes('engine/wf-plain/data.csv')), sha(big), 'the object holds the served bytes');
    assert.deepEqual(await uploadsUnder('engine/wf-plain/'), []);
  });

  test('a truncated body leaves no object and no unfinished upload', async () => {
    await assert.rejects(
      downloadToFile(spec('truncated', 'engine/wf-truncated')),
      (e: unknown) => e instanceof ClassifiedError && e.type === FAILURE_TYPES.integrity && e.retryable,
    );
    assert.deepEqual(await keysUnder('engine/wf-truncated/'), []);
    assert.deepEqual(await uploadsUnder('engine/wf-truncated/'), []);
  });

  test('a corrupt gzip stream is never completed into an object', async () => {
    await assert.rejects(
      downloadToFile(spec('badgzip', 'engine/wf-gzip', 'data.csv.gz')),
      (e: unknown) => e instanceof ClassifiedError && e.type === FAILURE_TYPES.integrity,
    );
    assert.deepEqual(await keysUnder('engine/wf-gzip/'), []);
    assert.deepEqual(await uploadsUnder('engine/wf-gzip/'), []);
  });

  test('an unreachable bucket is a StorageError, not a stored file', async () => {
    await assert.rejects(
      downloadToFile({ ...spec('plain', 'x'), dir: 's3://no-such-bucket-here/x' }),
      (e: unknown) => e instanceof ClassifiedError && e.type === FAILURE_TYPES.storage,
    );
  });

  test('removing an export deletes its objects and aborts uploads a killed worker left behind', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'engine/wf-rm/a.csv', Body: 'a' }));
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'engine/wf-rm-other/b.csv', Body: 'b' }));
    const started = await s3.client.send(
      new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: 'engine/wf-rm/half.csv' }),
    );
    await s3.client.send(
      new UploadPartCommand({
        Bucket: s3.bucket,
        Key: 'engine/wf-rm/half.csv',
        UploadId: started.UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(5 * 1024 * 1024, 1),
      }),
    );
    assert.deepEqual(await removeS3Directory(`s3://${s3.bucket}/engine/wf-rm`), { removed: true });
    assert.deepEqual(await keysUnder('engine/wf-rm/'), []);
    assert.deepEqual(await uploadsUnder('engine/wf-rm/'), []);
    assert.deepEqual(await keysUnder('engine/wf-rm-other/'), ['engine/wf-rm-other/b.csv'], 'other exports stay');
  });

  describe('through a worker with EXPORT_DIR=s3://', () => {
    let stack: TestStack;
    let sim: Simulator;
    let env: Record<string, string>;
    let worker: WorkerProcess;
    const ROWS = 40_000;

    before(async () => {
      stack = await startStack('s3', {
        sim: { altcraft: { taskDurationMs: 300, rows: { 'database:7': ROWS, 'database:8': 120_000 } } },
        env: { ...s3.env, EXPORT_DIR: `s3://${s3.bucket}/exports/` },
      });
      ({ sim, env } = stack);
      worker = stack.workers[0]!;
    });

    after(() => stack?.stop());

    test('an Altcraft export stores the served bytes as an object and names it by s3:// URI', async () => {
      const run = await runCli(
        ['export', 'altcraft', '--source-type', 'database', '--source-id', '7', '--wait', '--json'],
        env,
      );
      assert.equal(run.code, 0, run.stderr);
      const manifest = JSON.parse(run.stdout);
      const expected = csvInfo('altcraft:database:7:0', ROWS);
      const file = manifest.files[0];
      assert.equal(file.path, `s3://${s3.bucket}/exports/${manifest.workflowId}/${file.name}`);
      assert.equal(file.sha256, expected.sha256);
      assert.equal(file.bytes, expected.bytes);
      assert.equal(file.rows, ROWS);
      const stored = await objectBytes(`exports/${manifest.workflowId}/${file.name}`);
      assert.equal(sha(stored), expected.sha256, 'GetObject returns exactly what Altcraft served');
      assert.ok(!worker.logs().includes(s3.secretAccessKey), 'the AWS secret never appears in the worker logs');
    });

    test('cancel removes the objects an export already stored', async () => {
      sim.altcraft.config.filesPerTask = 2;
      sim.altcraft.config.downloadBytesPerSec = 1_000_000; // two files of ~4.5 MB: about 4.5 s each
      try {
        const started = await runCli(['export', 'altcraft', '--source-type', 'database', '--source-id', '8'], env);
        assert.equal(started.code, 0, started.stderr);
        const workflowId = started.stdout.trim();
        const prefix = `exports/${workflowId}/`;
        await waitFor('the first file in the bucket', async () => (await keysUnder(prefix)).length === 1, 60_000, 200);
        const cancel = await runCli(['cancel', workflowId], env);
        assert.equal(cancel.code, 0, cancel.stderr);
        const result = await runCli(['result', workflowId, '--json'], env);
        assert.equal(result.code, 1);
        assert.equal(JSON.parse(result.stdout).status, 'cancelled');
        assert.deepEqual(await keysUnder(prefix), [], 'no object of the cancelled export is left');
        await waitFor('no unfinished upload', async () => (await uploadsUnder(prefix)).length === 0, 20_000, 250);
      } finally {
        sim.altcraft.config.filesPerTask = 1;
        sim.altcraft.config.downloadBytesPerSec = undefined;
      }
    });
  });
});
