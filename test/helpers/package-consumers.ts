// Files of the scratch project in test/e2e/package.e2e.test.ts: a plain Node service using the packed package.

/** Starts an export with the id given as argv[2] and prints what it saw as one JSON line. */
const consumerBody = `
async function main() {
  const client = await ExportClient.connect();
  try {
    // Bad input is rejected by the package's own validation, before anything reaches Temporal.
    const bad = await client.start('altcraft', { sourceType: 'database' }).then(() => null, (err) => err);
    const { workflowId } = await client.start(
      'altcraft',
      { sourceType: 'database', sourceId: 3 },
      { workflowId: process.argv[2] },
    );
    const status = await client.status(workflowId);
    let tsx = true;
    try {
      requireHere.resolve('tsx');
    } catch {
      tsx = false;
    }
    const badInput = bad instanceof InputError ? bad.name + ': ' + bad.message : String(bad);
    console.log(JSON.stringify({ workflowId, execution: status.execution, badInput, tsx }));
  } finally {
    await client.close();
  }
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
`;

export const CONSUMER_CJS = `'use strict';
const { ExportClient, InputError } = require('exportflow/client');
const requireHere = require;
${consumerBody}`;

export const CONSUMER_MJS = `import { createRequire } from 'node:module';
import { ExportClient, InputError } from 'exportflow/client';
const requireHere = createRequire(import.meta.url);
${consumerBody}`;

/**
 * Type-checked as consumer.ts (CommonJS) and consumer.mts (ESM). Each @ts-expect-error fails the check if the
 * shipped .d.ts resolved to \`any\` instead of the real types.
 */
export const CONSUMER_TS = `import { ExportClient, InputError, type ExportManifest, type ExportStatus } from 'exportflow/client';

export async function run(): Promise<ExportManifest> {
  const client = await ExportClient.connect({ taskQueue: 'exportflow' });
  const { workflowId, existing } = await client.start('altcraft', { sourceType: 'database', sourceId: 1 });
  const status: ExportStatus = await client.status(workflowId);
  // @ts-expect-error an unknown provider is a type error
  await client.start('nope', {});
  // @ts-expect-error execution is a status name, not a number
  const wrong: number = status.execution;
  const manifest = await client.result(workflowId);
  // @ts-expect-error files is an array of file entries
  const files: string = manifest.files;
  console.log(existing, wrong, files, new InputError('x').name);
  return manifest;
}
`;

export const SCRATCH_TSCONFIG = JSON.stringify({
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'es2022',
    strict: true,
    noEmit: true,
    // @temporalio/common's own .d.ts import the untyped 'ms'; that is theirs to fix, not what this checks.
    skipLibCheck: true,
    types: ['node'],
  },
  files: ['consumer.ts', 'consumer.mts'],
});
