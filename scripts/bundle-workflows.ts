// Prebuilds the workflow bundles (webpack, as Worker.create would do at every start) from src/workflows: one with
// the default failure converter, and one whose failure converter moves messages into payloads, for workers with
// EXPORTFLOW_CODEC_KEYS (a prebuilt bundle cannot take a failureConverterPath at worker start).
// Usage: node --import tsx scripts/bundle-workflows.ts <out-dir>
import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { workflowBundleName } from '../src/worker';

async function main(): Promise<void> {
  const outDir = process.argv[2];
  if (!outDir) throw new Error('usage: bundle-workflows.ts <out-dir>');
  fs.mkdirSync(outDir, { recursive: true });
  const src = path.resolve(__dirname, '..', 'src');
  for (const encodedFailures of [false, true]) {
    const started = Date.now();
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.join(src, 'workflows', 'index.ts'),
      ...(encodedFailures ? { failureConverterPath: path.join(src, 'temporal', 'failure-converter.ts') } : {}),
      // webpack's own progress lines would drown the build output; errors still throw.
      logger: new DefaultLogger('WARN'),
    });
    const out = path.join(outDir, workflowBundleName(encodedFailures));
    fs.writeFileSync(out, code);
    console.log(`workflow bundle: ${out} (${Math.round(code.length / 1024)} KiB, ${Date.now() - started} ms)`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
