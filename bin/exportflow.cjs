#!/usr/bin/env node
// Runs the built code (dist/cli.js, from `npm run build`) when it is there, otherwise the TypeScript sources
// through tsx. EXPORTFLOW_FROM_SOURCE=1 forces the sources even when dist/ exists: `npm start`, `npm run
// exportflow` and the tests set it, so they never run a dist/ older than the code being edited; other runs in a
// checkout warn when src/ changed after the last build.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const built = path.join(root, 'dist', 'cli.js');

/** In a checkout (src/ beside dist/), warns when a source file changed after the last build. */
function warnIfStale() {
  const src = path.join(root, 'src');
  if (!fs.existsSync(src)) return;
  const builtAt = fs.statSync(built).mtimeMs;
  const newer = fs.readdirSync(src, { recursive: true }).find((f) => fs.statSync(path.join(src, f)).mtimeMs > builtAt);
  if (newer) {
    console.error(
      `exportflow: src/${newer} changed after the last build; running the older dist/ ` +
        '(run `npm run build`, or set EXPORTFLOW_FROM_SOURCE=1 to run the sources).',
    );
  }
}

function loadCli() {
  if (process.env.EXPORTFLOW_FROM_SOURCE !== '1' && fs.existsSync(built)) {
    warnIfStale();
    return require(built);
  }
  try {
    require.resolve('tsx/cjs');
  } catch {
    // The published package and the Docker image ship dist/ and no tsx; only a checkout runs the sources.
    console.error(
      fs.existsSync(built)
        ? 'exportflow: EXPORTFLOW_FROM_SOURCE=1 needs tsx (a dev dependency): run `npm install`, or unset it.'
        : 'exportflow: dist/cli.js is missing and tsx is not installed: run `npm run build`, or `npm install` ' +
            'for the dev dependencies to run the sources.',
    );
    process.exit(1);
  }
  require('tsx/cjs');
  return require('../src/cli.ts');
}

loadCli()
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
    // Long-lived commands (dev, worker) resolve only after a clean shutdown; short ones must not hang on handles.
    setTimeout(() => process.exit(code), 50).unref();
  });
