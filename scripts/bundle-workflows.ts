// Prebuilds the workflow bundles (webpack, as Worker.create would do at every start) from src/workflows: one with
// the default failure converter, and one whose failure converter moves messages into payloads, for workers with
// EXPORTFLOW_CODEC_KEYS (a prebuilt bundle cannot take a failureConverterPath at worker start). Both include the
// OpenTelemetry workflow interceptors (src/telemetry), which a prebuilt bundle cannot take at worker start either.
// Usage: node --import tsx scripts/bundle-workflows.ts [--if-changed] <out-dir>
// --if-changed keeps bundles built from the same sources: <out-dir>/sources.sha256 records a hash of src/ and
// package-lock.json, and a match skips webpack (the test command uses it, so a re-run costs nothing).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { workflowBundleName } from '../src/worker/bundle-name';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../src/telemetry';

const ROOT = path.resolve(__dirname, '..');

/** sha256 over every file under src/ (path and bytes, in sorted order) and the lockfile (the SDK's version). */
function sourcesHash(): string {
  const hash = crypto.createHash('sha256');
  const src = path.join(ROOT, 'src');
  const files = (fs.readdirSync(src, { recursive: true }) as string[])
    .map((f) => path.join(src, f))
    .filter((f) => fs.statSync(f).isFile())
    .sort();
  for (const file of [...files, path.join(ROOT, 'package-lock.json')]) {
    hash.update(path.relative(ROOT, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const ifChanged = args.includes('--if-changed');
  const outDir = args.find((a) => !a.startsWith('--'));
  if (!outDir) throw new Error('usage: bundle-workflows.ts [--if-changed] <out-dir>');
  fs.mkdirSync(outDir, { recursive: true });
  const stamp = path.join(outDir, 'sources.sha256');
  const hash = sourcesHash();
  const names = [false, true].map((encodedFailures) => path.join(outDir, workflowBundleName(encodedFailures)));
  if (ifChanged && names.every((n) => fs.existsSync(n)) && fs.existsSync(stamp)) {
    if (fs.readFileSync(stamp, 'utf8').trim() === hash) {
      console.log(`workflow bundles in ${outDir} are up to date with src/`);
      return;
    }
  }
  fs.rmSync(stamp, { force: true });
  const src = path.join(ROOT, 'src');
  for (const encodedFailures of [false, true]) {
    const started = Date.now();
    const { code } = await bundleWorkflowCode({
      workflowsPath: path.join(src, 'workflows', 'index.ts'),
      // OpenTelemetry's workflow interceptors, in every bundle: spans go out only through a worker's sink.
      workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
      ...(encodedFailures ? { failureConverterPath: path.join(src, 'temporal', 'failure-converter.ts') } : {}),
      // webpack's own progress lines would drown the build output; errors still throw.
      logger: new DefaultLogger('WARN'),
    });
    const out = path.join(outDir, workflowBundleName(encodedFailures));
    fs.writeFileSync(out, code);
    console.log(`workflow bundle: ${out} (${Math.round(code.length / 1024)} KiB, ${Date.now() - started} ms)`);
  }
  // Written last: an interrupted build leaves no stamp, so the next --if-changed builds again.
  fs.writeFileSync(stamp, `${hash}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
