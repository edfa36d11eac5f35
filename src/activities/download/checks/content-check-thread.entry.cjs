// Entry of the content-check thread (content-check-thread.ts starts it; content-check-thread.body is what runs).
// The same file serves both places it ships to, unchanged (scripts/build copies it): in dist/ the compiled body
// (.js) sits beside it and is loaded as is; in src/ only the TypeScript body is there, loaded through tsx, as
// bin/exportflow.cjs does for the main thread, unless the thread inherited a tsx loader already (--import tsx).
const fs = require('node:fs');
const path = require('node:path');

const compiled = path.join(__dirname, 'content-check-thread.body.js');
if (fs.existsSync(compiled)) {
  require(compiled);
} else {
  if (!require.extensions['.ts']) require('tsx/cjs');
  require('./content-check-thread.body.ts');
}
