/**
 * A process that runs one multi-range download and appends every heartbeat (resume point) to a file, so a test
 * can kill it with -9 mid-way and resume from the last heartbeat, as a retried activity would.
 *   node --import tsx range-download-child.ts <url> <dir> <pointsFile> [resumeJson]
 */
import fs from 'node:fs';
import { downloadToFile } from '../../src/activities/download/engine';
import { csvSpec } from './downloads';

const [url, dir, pointsFile, resumeJson] = process.argv.slice(2) as [string, string, string, string?];
downloadToFile({
  ...csvSpec(url, dir, { connections: 4, multiRangeMinBytes: 1024 * 1024 }),
  resume: resumeJson ? JSON.parse(resumeJson) : undefined,
  onProgress: (point) => fs.appendFileSync(pointsFile, `${JSON.stringify(point)}\n`),
}).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
