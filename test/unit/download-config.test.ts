import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, readConfig } from '../../src/config';

/** EXPORTFLOW_DOWNLOAD_CONNECTIONS: default 4, 1 turns ranges off, anything else is refused before start. */
describe('EXPORTFLOW_DOWNLOAD_CONNECTIONS', () => {
  test('defaults to 4 and accepts 1..16', () => {
    assert.equal(readConfig({}).downloads.connections, 4);
    assert.equal(readConfig({ EXPORTFLOW_DOWNLOAD_CONNECTIONS: '' }).downloads.connections, 4);
    assert.equal(readConfig({ EXPORTFLOW_DOWNLOAD_CONNECTIONS: '1' }).downloads.connections, 1);
    assert.equal(readConfig({ EXPORTFLOW_DOWNLOAD_CONNECTIONS: ' 16 ' }).downloads.connections, 16);
  });

  test('bad values name the variable and what is expected', () => {
    for (const bad of ['0', '17', '2.5', 'four', '-1']) {
      assert.throws(
        () => readConfig({ EXPORTFLOW_DOWNLOAD_CONNECTIONS: bad }),
        (e: unknown) => e instanceof ConfigError && /EXPORTFLOW_DOWNLOAD_CONNECTIONS/.test(e.message),
        bad,
      );
    }
  });
});
