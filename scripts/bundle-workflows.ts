// Prebuilds the workflow bundle (webpack, as Worker.create would do at every start) from src/workflows.
// Usage: node --import tsx scripts/bundle-workflows.ts <out.js>
import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: bundle-workflows.ts <out.js>');
  const started = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '..', 'src', 'workflows', 'index.ts'),
    // webpack's own progress lines would drown the build output; errors still throw.
    logger: new DefaultLogger('WARN'),
  });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, code);
  console.log(`workflow bundle: ${out} (${Math.round(code.length / 1024)} KiB, ${Date.now() - started} ms)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
