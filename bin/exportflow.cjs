#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so there is no build step to forget.
require('tsx/cjs');
require('../src/cli.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
    // Long-lived commands (dev, worker) resolve only after a clean shutdown; short ones must not hang on handles.
    setTimeout(() => process.exit(code), 50).unref();
  });
