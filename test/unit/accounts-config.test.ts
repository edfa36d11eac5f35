import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ExportClient, InputError } from '../../src/client';
import {
  ConfigError,
  MissingCredentialError,
  accountCredentials,
  accountNamesIn,
  configuredAccounts,
  readConfig,
} from '../../src/config';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'exportflow-accounts-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
function secretFile(name: string, content: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

describe('named vendor accounts in the environment', () => {
  test('the plain variables are account default; __<NAME> variables make a named account', () => {
    const c = readConfig({
      ALTCRAFT_BASE_URL: 'https://panel.example.com/',
      ALTCRAFT_TOKEN: 'tok-default',
      ALTCRAFT_BASE_URL__EU: 'https://eu.panel.example.com',
      ALTCRAFT_TOKEN__EU: 'tok-eu',
      MYTRACKER_API_USER_ID__APP_2: '42',
      MYTRACKER_API_SECRET__APP_2: 'sec-2',
    });
    assert.deepEqual(configuredAccounts(c, 'altcraft'), ['default', 'eu']);
    assert.deepEqual(configuredAccounts(c, 'mytracker'), ['app_2']);
    assert.deepEqual(configuredAccounts(c, 'apsis'), []);
    assert.deepEqual(accountCredentials(c, 'altcraft', 'default'), {
      baseUrl: 'https://panel.example.com',
      token: 'tok-default',
    });
    assert.deepEqual(accountCredentials(c, 'altcraft', 'EU'), {
      baseUrl: 'https://eu.panel.example.com',
      token: 'tok-eu',
    });
    assert.equal(accountCredentials(c, 'altcraft', undefined).token, 'tok-default');
    // myTracker's base URL has the vendor default; a named account does not borrow the default account's.
    assert.deepEqual(accountCredentials(c, 'mytracker', 'app_2'), {
      baseUrl: 'https://tracker.my.com',
      userId: '42',
      secret: 'sec-2',
    });
  });

  test('an account the worker lacks names the missing variable, secret first', () => {
    const c = readConfig({ ALTCRAFT_BASE_URL: 'https://panel.example.com', ALTCRAFT_TOKEN: 'tok' });
    assert.throws(
      () => accountCredentials(c, 'altcraft', 'eu'),
      (err: unknown) =>
        err instanceof MissingCredentialError &&
        /^ALTCRAFT_TOKEN__EU is not set in the worker's environment \(nor ALTCRAFT_BASE_URL__EU\)/.test(err.message) &&
        /account "eu"/.test(err.message) &&
        !err.message.includes('tok'),
    );
    // A named base URL never falls back to the default account's panel.
    const partial = readConfig({ ALTCRAFT_BASE_URL: 'https://panel.example.com', ALTCRAFT_TOKEN__EU: 'tok-eu' });
    assert.throws(() => accountCredentials(partial, 'altcraft', 'eu'), /ALTCRAFT_BASE_URL__EU is not set/);
    assert.throws(() => accountCredentials(readConfig({}), 'apsis', undefined), /APSIS_CLIENT_SECRET is not set/);
  });

  test('bad account variables are ConfigErrors naming the variable', () => {
    assert.throws(
      () => readConfig({ ALTCRAFT_TOKEN__eu: 'x' }),
      (err: unknown) => err instanceof ConfigError && /ALTCRAFT_TOKEN__eu: .*upper-case/.test(err.message),
    );
    assert.throws(() => readConfig({ ALTCRAFT_TOKEN__DEFAULT: 'x' }), /ALTCRAFT_TOKEN__DEFAULT: .*plain variables/);
    assert.throws(
      () => readConfig({ ALTCRAFT_TOKEN__E_U: 'x', ALTCRAFT_BASE_URL__E_U: 'ftp:/x' }),
      /ALTCRAFT_BASE_URL__E_U: must be an http\(s\) URL/,
    );
  });
});

describe('<SECRET>_FILE', () => {
  test('reads the secret from the file, one trailing newline trimmed, for plain and named accounts', () => {
    const c = readConfig({
      ALTCRAFT_BASE_URL: 'https://panel.example.com',
      ALTCRAFT_TOKEN_FILE: secretFile('altcraft', 'tok-from-file\n'),
      MYTRACKER_API_USER_ID__EU: '7',
      MYTRACKER_API_SECRET__EU_FILE: secretFile('mt-eu', 'mt secret \n'),
      APSIS_CLIENT_ID: 'id',
      APSIS_CLIENT_SECRET_FILE: secretFile('apsis', 'apsis-secret'),
      CALLBACK_SECRET_FILE: secretFile('callback', 'cb-secret\r\n'),
    });
    assert.equal(c.altcraft.token, 'tok-from-file');
    assert.equal(accountCredentials(c, 'altcraft', 'default').token, 'tok-from-file');
    // Only one newline goes: a secret may end in spaces.
    assert.equal(accountCredentials(c, 'mytracker', 'eu').secret, 'mt secret ');
    assert.deepEqual(configuredAccounts(c, 'mytracker'), ['eu']);
    assert.equal(accountCredentials(c, 'apsis', 'default').clientSecret, 'apsis-secret');
    assert.equal(c.callbacks.secret, 'cb-secret');
  });

  test('a missing file, an empty file, or both forms set: ConfigError naming the variable, never the content', () => {
    assert.throws(
      () => readConfig({ MYTRACKER_API_SECRET__EU_FILE: path.join(dir, 'nope') }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /MYTRACKER_API_SECRET__EU_FILE: cannot read the file it names \(ENOENT\)/.test(err.message),
    );
    assert.throws(
      () => readConfig({ ALTCRAFT_TOKEN_FILE: secretFile('empty', '\n') }),
      /ALTCRAFT_TOKEN_FILE: the file it names is empty/,
    );
    assert.throws(
      () => readConfig({ ALTCRAFT_TOKEN: 'inline-secret', ALTCRAFT_TOKEN_FILE: secretFile('both', 'file-secret') }),
      (err: unknown) =>
        err instanceof ConfigError &&
        /set either ALTCRAFT_TOKEN or ALTCRAFT_TOKEN_FILE/.test(err.message) &&
        !/inline-secret|file-secret/.test(err.message),
    );
  });
});

describe('one account discovery for credentials and quotas', () => {
  test('names come from __<NAME> variables and their _FILE forms, before or after the files are read', () => {
    const raw = {
      MYTRACKER_API_SECRET__EU_FILE: '/run/secrets/eu',
      MYTRACKER_API_USER_ID__EU: '7',
      APSIS_CLIENT_ID__US: 'c',
      ALTCRAFT_TOKEN_FILE: '/run/secrets/default',
      ALTCRAFT_TOKEN__EMPTY: ' ',
    };
    const { names, problems } = accountNamesIn(raw);
    assert.deepEqual([...names.mytracker].sort(), ['eu']);
    assert.deepEqual([...names.apsis].sort(), ['us']);
    assert.deepEqual([...names.altcraft].sort(), ['default'], 'a _FILE of the plain secret is the default account');
    assert.deepEqual(problems, []);
    // The same environment once the files are read (what readConfig hands readAccounts) names the same accounts.
    const read = accountNamesIn({ ...raw, MYTRACKER_API_SECRET__EU: 's', ALTCRAFT_TOKEN: 't' });
    assert.deepEqual([...read.names.mytracker].sort(), ['eu']);
    assert.deepEqual([...read.names.altcraft].sort(), ['default']);
  });

  test('a suffix that breaks the rule is a problem naming its variable', () => {
    const { names, problems } = accountNamesIn({ ALTCRAFT_TOKEN__eu: 't', APSIS_CLIENT_ID__DEFAULT: 'c' });
    assert.deepEqual([...names.altcraft], []);
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /^ALTCRAFT_TOKEN__eu: .*upper-case/);
    assert.match(problems[1]!, /^APSIS_CLIENT_ID__DEFAULT: .*plain variables/);
  });
});

describe('account in export input', () => {
  test('absent means default; names are case-insensitive and kept lower-case', () => {
    assert.equal(
      (ExportClient.validate('altcraft', { sourceType: 'segment', sourceId: 1 }) as { account: string }).account,
      'default',
    );
    assert.equal(
      (ExportClient.validate('mytracker', { segmentId: 3, account: 'EU' }) as { account: string }).account,
      'eu',
    );
    assert.equal(
      (ExportClient.validate('apsis-profile', { exportKey: 'k', account: 'app_2' }) as { account: string }).account,
      'app_2',
    );
    assert.equal(
      (ExportClient.validate('apsis-segment', { section: 's', segments: ['x'], account: 'b' }) as { account: string })
        .account,
      'b',
    );
  });
  for (const bad of ['', 'e u', 'eu-west', 'x'.repeat(65), 7]) {
    test(`rejects account ${JSON.stringify(bad)} naming the field`, () => {
      assert.throws(
        () => ExportClient.validate('altcraft', { sourceType: 'segment', sourceId: 1, account: bad }),
        (err: unknown) => err instanceof InputError && /^account: expected an account name/.test(err.message),
      );
    });
  }
});
