import { isS3Uri } from '../../../util/s3-uri';
import { LocalFileSink } from './local-sink';
import type { FileSink } from '../types';

/** The sink for `<dir>/<fileName>`; `dir` is a local directory or an `s3://bucket/prefix` URI. */
export function fileSinkFor(dir: string, fileName: string): FileSink {
  return isS3Uri(dir) ? new (loadS3Store().S3ObjectSink)(dir, fileName) : new LocalFileSink(dir, fileName);
}

/** The S3 sink, loaded on first use: the AWS SDK costs ~20 MiB and 0.2 s, paid only with an s3:// EXPORT_DIR. */
export function loadS3Store(): typeof import('./s3-sink') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./s3-sink') as typeof import('./s3-sink');
}
