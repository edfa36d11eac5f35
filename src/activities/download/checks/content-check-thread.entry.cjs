// Entry of the content-check thread (content-check-thread.ts): loads the TypeScript sources through tsx, as
// bin/exportflow.cjs does for the main thread, unless the thread inherited a tsx loader already (--import tsx).
if (!require.extensions['.ts']) require('tsx/cjs');
require('./content-check-thread.body.ts');
