import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { exportDirFor } from '../../src/activities/context';
import { ConfigError, readConfig } from '../../src/config';
import { formatS3Uri, isS3Uri, parseS3Uri, s3Child } from '../../src/util/s3-uri';

describe('EXPORT_DIR as an s3:// location', () => {
  test('s3://bucket/prefix parses into bucket and a clean key prefix', () => {
    assert.deepEqual(parseS3Uri('s3://exports-bucket/team//daily/'), { bucket: 'exports-bucket', key: 'team/daily' });
    assert.deepEqual(parseS3Uri('s3://exports-bucket'), { bucket: 'exports-bucket', key: '' });
    assert.equal(formatS3Uri({ bucket: 'b12', key: 'a/b' }), 's3://b12/a/b');
    assert.deepEqual(s3Child({ bucket: 'b12', key: '' }, 'x.csv'), { bucket: 'b12', key: 'x.csv' });
  });

  test('invalid bucket names are not S3 locations', () => {
    for (const bad of ['s3://', 's3://A_Bucket/x', 's3://ab', 's3://-bucket/x'])
      assert.equal(parseS3Uri(bad), undefined);
    assert.equal(isS3Uri('./exports'), false);
  });

  test('readConfig keeps an s3:// EXPORT_DIR as a URI instead of resolving it as a path', () => {
    const config = readConfig({ EXPORT_DIR: 's3://exports-bucket/prefix/' });
    assert.equal(config.exportDir, 's3://exports-bucket/prefix');
    assert.equal(readConfig({ EXPORT_DIR: 'rel/dir' }).exportDir, path.resolve('rel/dir'));
    assert.throws(
      () => readConfig({ EXPORT_DIR: 's3://Not_A_Bucket/x' }),
      (e: unknown) => e instanceof ConfigError && /EXPORT_DIR/.test(String(e)),
    );
  });

  test('each export gets its own key prefix, with the workflow id sanitised', () => {
    const config = readConfig({ EXPORT_DIR: 's3://exports-bucket/prefix' });
    assert.equal(exportDirFor(config, 'export-altcraft-1'), 's3://exports-bucket/prefix/export-altcraft-1');
    assert.equal(exportDirFor(config, '../../etc'), 's3://exports-bucket/prefix/etc');
  });
});
