/**
 * Runs the real `exportflow` command (src/cli.ts `main`) once per argument list, all in this one process, so a
 * table of a hundred bad-input cases costs one Node start instead of a hundred. Argument lists arrive as JSON
 * on stdin (so they may hold NUL bytes, which a real argv cannot); the results leave as JSON on stdout:
 * `[{ code, stdout, stderr }, ...]`. It connects to Temporal only if a case passes validation, as the CLI does.
 */
import { main } from '../../src/cli';

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

async function runAll(): Promise<void> {
  const cases = JSON.parse(await readStdin()) as string[][];
  const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  const results: { code: number; stdout: string; stderr: string }[] = [];
  for (const args of cases) {
    let stdout = '';
    let stderr = '';
    process.stdout.write = ((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    }) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(args);
    } finally {
      process.stdout.write = write.out;
      process.stderr.write = write.err;
    }
    results.push({ code, stdout, stderr });
  }
  write.out(JSON.stringify(results), () => process.exit(0));
}

runAll().catch((err: unknown) => {
  process.stderr.write(`cli-batch failed: ${String(err)}\n`);
  process.exit(3);
});
