import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ExportClient, InputError, type SupportedProvider } from '../../src/client';
import { REPO_ROOT, childEnv, runCli, type CliResult } from '../helpers/processes';
import { startUnchecked } from '../helpers/export-request';
import { startStack, type TestStack } from '../helpers/stack';

/**
 * Bad input, table-driven: malformed values for every option of every provider (wrong types, out of range,
 * empty, 10 kB, injection attempts, control characters, unicode tricks), through the CLI and through the typed
 * client. Each is rejected before anything starts: exit 2 with the flag named (CLI), InputError naming the field
 * (client), and not one workflow more on the Temporal server.
 */

const HUGE = 'x'.repeat(10 * 1024);
/** Hostile strings every free-text option is tried with. */
const HOSTILE: [string, string][] = [
  ['empty', ''],
  ['SQL injection', '1"; DROP TABLE profiles; --'],
  ['path traversal', '../../etc/passwd'],
  ['newline', 'a\nb'],
  ['NUL', 'a\u0000b'],
  ['10 kB', HUGE],
  ['unicode and a bidi override', 'ünï\u202Ecode'],
];
/** For values that are data (a filter expression, an export key), only these are malformed. */
const MALFORMED_TEXT = HOSTILE.filter(([label]) => !['SQL injection', 'path traversal'].includes(label));

interface CliCase {
  label: string;
  args: string[];
  flag: RegExp;
}

/** `base` with `flag` set to `value` (replacing its value when present, else appended). */
function withFlag(base: string[], flag: string, value: string): string[] {
  const i = base.indexOf(flag);
  if (i < 0) return [...base, flag, value];
  return [...base.slice(0, i + 1), value, ...base.slice(i + 2)];
}

function cliCases(): CliCase[] {
  const cases: CliCase[] = [];
  const each = (base: string[], flag: string, values: [string, string][], named = flag) => {
    for (const [label, value] of values) {
      cases.push({ label: `${base[1]} ${flag} ${label}`, args: withFlag(base, flag, value), flag: new RegExp(named) });
    }
  };
  const plain = (...values: string[]): [string, string][] => values.map((v) => [JSON.stringify(v).slice(0, 40), v]);

  const altcraft = ['export', 'altcraft', '--source-type', 'database', '--source-id', '1'];
  each(altcraft, '--source-type', [...HOSTILE, ...plain('DATABASE', 'table')]);
  each(altcraft, '--source-id', [
    ...HOSTILE,
    ...plain('0', '-1', '1.5', 'abc', '1e3', '2147483648', '99999999999999999999', '0x10', '１２', ' '),
  ]);
  each(altcraft, '--format', [...HOSTILE, ...plain('xlsx', 'CSV', 'csv; rm -rf /')]);
  each(altcraft, '--filter', [
    ...HOSTILE,
    ...plain(
      'null',
      '[]',
      '"city"',
      '42',
      '{"a":{"b":1}}',
      '{"a":[1]}',
      '{"":1}',
      '{"city; DROP TABLE profiles":1}',
      '{"../../etc":1}',
      '{"ci\\nty":1}',
      '{"__proto__":1}',
      '{"city":"Ber\\u0000lin"}',
      '{"city":"Ber\\nlin"}',
      JSON.stringify({ city: HUGE }),
      JSON.stringify(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`f${i}`, i]))),
    ),
  ]);
  each(altcraft, '--id', [...HOSTILE, ...plain('x'.repeat(201), '-leading-dash', 'a b', 'id;rm')]);
  cases.push({ label: 'altcraft --wait=yes', args: [...altcraft, '--wait=yes'], flag: /--wait/ });
  cases.push({ label: 'altcraft unknown --token', args: [...altcraft, '--token', 'x'], flag: /--token/ });
  cases.push({ label: 'altcraft without --source-id', args: altcraft.slice(0, 4), flag: /--source-id/ });
  cases.push({ label: 'unknown provider', args: ['export', 'salesforce'], flag: /salesforce/ });

  const segment = [
    'export',
    'apsis-segment',
    '--section',
    'com.apsis1.sections.main',
    '--segment',
    'com.apsis1.segments.vip',
  ];
  each(segment, '--section', [...HOSTILE, ...plain('   ', 'com apsis1')]);
  each(segment, '--segment', [...HOSTILE, ...plain('com.apsis1.segments.vip com.apsis1.segments.new')]);
  cases.push({
    label: 'apsis-segment --segment twice the same',
    args: [...segment, '--segment', 'com.apsis1.segments.vip'],
    flag: /--segment/,
  });
  cases.push({
    label: 'apsis-segment 101 segments',
    args: [...segment.slice(0, 4), '--segment', ...Array.from({ length: 101 }, (_, i) => `s${i}`)],
    flag: /--segment/,
  });
  each(segment, '--filter', [...MALFORMED_TEXT, ...plain('   ', 'x'.repeat(4097))]);
  each(segment, '--attribute', HOSTILE);
  cases.push({
    label: 'apsis-segment 1001 attributes',
    args: [...segment, '--attribute', ...Array.from({ length: 1001 }, (_, i) => `a${i}`)],
    flag: /--attribute/,
  });
  each(segment, '--tag', HOSTILE);
  each(segment, '--format', [...HOSTILE, ...plain('pdf', 'CSV', 'csv.zip')]);
  each(segment, '--id', HOSTILE);
  cases.push({
    label: 'apsis-segment without --section',
    args: segment.slice(0, 2).concat(segment.slice(4)),
    flag: /--section/,
  });

  const profile = ['export', 'apsis-profile', '--export-key', 'someone@example.test'];
  each(profile, '--export-key', [...MALFORMED_TEXT, ...plain('.', '..', '   ', 'k'.repeat(1001))]);
  each(profile, '--section', HOSTILE);
  for (const flag of ['--history=yes', '--type-definitions=true', '--merged=1']) {
    cases.push({ label: `apsis-profile ${flag}`, args: [...profile, flag], flag: new RegExp(flag.split('=')[0]!) });
  }
  each(profile, '--id', HOSTILE);

  const mytracker = ['export', 'mytracker', '--segment', '5'];
  each(mytracker, '--segment', [...HOSTILE, ...plain('0', '-5', '1.5', 'abc', '1e3', '99999999999999999999', '１２')]);
  each(mytracker, '--fields', [...HOSTILE, ...plain(',', 'a b', 'idDevice;tsInstall')]);
  cases.push({
    label: 'mytracker 101 fields',
    args: withFlag(mytracker, '--fields', Array.from({ length: 101 }, (_, i) => `f${i}`).join(',')),
    flag: /--fields/,
  });
  const handover = ['export', 'mytracker', '--export-id', '4567'];
  each(handover, '--export-id', [...HOSTILE, ...plain('0', '-1', 'abc', '1 OR 1=1', '１２')]);
  cases.push({
    label: 'mytracker --segment and --export-id',
    args: [...mytracker, '--export-id', '4567'],
    flag: /--export-id: give either --segment or --export-id, not both/,
  });
  cases.push({
    label: 'mytracker neither',
    args: ['export', 'mytracker'],
    flag: /--segment: required, unless --export-id/,
  });
  cases.push({
    label: 'mytracker --fields with --export-id',
    args: [...handover, '--fields', 'idDevice'],
    flag: /--fields/,
  });
  each(mytracker, '--id', HOSTILE);
  return cases;
}

interface ClientCase {
  label: string;
  provider: SupportedProvider;
  input: unknown;
  field: string;
  workflowId?: string;
}

function clientCases(): ClientCase[] {
  const cases: ClientCase[] = [];
  const each = (provider: SupportedProvider, base: object, field: string, values: unknown[]) => {
    for (const value of values) {
      const shown =
        typeof value === 'string' ? JSON.stringify(value.slice(0, 30)) : JSON.stringify(value)?.slice(0, 40);
      cases.push({ label: `${provider} ${field} = ${shown}`, provider, input: { ...base, [field]: value }, field });
    }
  };
  const strings = HOSTILE.map(([, v]) => v);
  const timings = [
    'fast',
    { pollInitialMs: 0 },
    { pollMaxMs: -1 },
    { maxWaitMs: 999 },
    { maxWaitMs: 1e12 },
    { heartbeatTimeoutMs: 1.5 },
    { pollsPerRun: 0 },
    { pollInitialMs: '5s' },
    { extra: 1 },
  ];
  const carry = { remoteId: 'task_someone-elses', attempts: 0, startedAt: new Date(0).toISOString(), polls: 0 };

  const altcraft = { sourceType: 'database', sourceId: 1 };
  each('altcraft', altcraft, 'sourceType', [...strings, 5, null, 'DATABASE']);
  each('altcraft', altcraft, 'sourceId', ['1', 1.5, 0, -1, NaN, Infinity, 2 ** 31, null, true, [1], {}]);
  each('altcraft', altcraft, 'format', ['xlsx', '', 5]);
  each('altcraft', altcraft, 'filter', [
    'city=Berlin',
    [],
    { a: {} },
    { city: HUGE },
    { city: 'a\u0000b' },
    { 'a b': 1 },
    { 'city"; DROP TABLE profiles': 1 },
    JSON.parse('{"__proto__":1}') as object,
    Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`f${i}`, i])),
  ]);
  each('altcraft', altcraft, 'timing', timings);
  each('altcraft', altcraft, 'carryOver', [carry]);
  each('altcraft', altcraft, 'token', ['sim-altcraft-token']);

  const segment = { section: 'com.apsis1.sections.main', segments: ['com.apsis1.segments.vip'] };
  each('apsis-segment', segment, 'section', [...strings, 5, null]);
  each('apsis-segment', segment, 'segments', [
    'com.apsis1.segments.vip',
    [],
    [''],
    ['a', 'a'],
    [5],
    ['../x'],
    Array.from({ length: 101 }, (_, i) => `s${i}`),
    ['a b=com.x.vip'],
    ['1vip=com.x.vip'],
    ['vip=com.x.a', 'vip=com.x.b'],
    ['s2=com.x.a', 'com.x.b'],
    ['vip='],
  ]);
  each('apsis-segment', segment, 'filter', [
    '',
    'a\nb',
    'a\u0000b',
    HUGE,
    5,
    'vip',
    'com.apsis1.segments.vip',
    's1 &',
    '(s1',
    's1 = "x"',
  ]);
  each('apsis-segment', segment, 'attributes', [
    'email',
    [''],
    ['1"; DROP TABLE x'],
    Array.from({ length: 1001 }, (_, i) => `a${i}`),
  ]);
  each('apsis-segment', segment, 'tags', [['../../etc'], [null]]);
  each('apsis-segment', segment, 'format', ['pdf', 'CSV', 1]);
  each('apsis-segment', segment, 'timing', timings.slice(0, 3));
  each('apsis-segment', segment, 'report', [
    { reportId: 'r', pollUrl: 'http://evil.example/', pollKind: 'v2', validUntil: 'x' },
  ]);

  const profile = { exportKey: 'someone@example.test' };
  each('apsis-profile', profile, 'exportKey', [
    '',
    '   ',
    'a\u0000b',
    'a\nb',
    '.',
    '..',
    'k'.repeat(1001),
    'x\u202Eevil',
    5,
    null,
  ]);
  each('apsis-profile', profile, 'section', strings);
  each('apsis-profile', profile, 'history', ['yes', 1, null]);
  each('apsis-profile', profile, 'typeDefinitions', ['true']);
  each('apsis-profile', profile, 'merged', [0]);

  const mytracker = { segmentId: 5 };
  each('mytracker', mytracker, 'segmentId', ['5', 0, -5, 1.5, 2 ** 53, null, NaN]);
  each('mytracker', mytracker, 'fields', [
    'idDevice,tsInstall',
    [],
    ['1"; DROP'],
    ['../x'],
    ['a\u0000b'],
    [HUGE],
    Array.from({ length: 101 }, (_, i) => `f${i}`),
  ]);
  each('mytracker', {}, 'exportId', ['', '0', 'abc', -1, '../1', HUGE, '1 OR 1=1']);
  cases.push({
    label: 'mytracker segmentId and exportId',
    provider: 'mytracker',
    input: { segmentId: 5, exportId: '7' },
    field: 'exportId',
  });
  cases.push({ label: 'mytracker neither', provider: 'mytracker', input: {}, field: 'segmentId' });
  cases.push({
    label: 'mytracker fields with exportId',
    provider: 'mytracker',
    input: { exportId: '7', fields: ['a'] },
    field: 'fields',
  });
  cases.push({ label: 'unknown provider', provider: 'salesforce' as SupportedProvider, input: {}, field: 'provider' });
  cases.push({ label: 'input that is not an object', provider: 'altcraft', input: 'sourceId=1', field: 'input' });

  for (const workflowId of ['', '../x', 'a b', 'x'.repeat(201), 'ünï', 'a\nb', '-x', 'a\u0000b']) {
    cases.push({
      label: `workflowId ${JSON.stringify(workflowId.slice(0, 20))}`,
      provider: 'altcraft',
      input: altcraft,
      field: 'id',
      workflowId,
    });
  }
  return cases;
}

/** Runs many CLI argument lists through the real `main` in one child process (see test/helpers/cli-batch.ts). */
function runCliBatch(cases: string[][], env: Record<string, string>): Promise<CliResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--require', require.resolve('tsx/cjs'), path.join(REPO_ROOT, 'test', 'helpers', 'cli-batch.ts')],
      { env: childEnv(env), cwd: os.tmpdir() },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`cli-batch exited with ${code}: ${stderr}`));
      resolve(JSON.parse(stdout) as CliResult[]);
    });
    child.stdin.end(JSON.stringify(cases));
  });
}

describe('bad input is rejected before anything starts', () => {
  let stack: TestStack;
  let before_: number;
  const workflows = async () => (await stack.client.temporal.workflow.count()).count;

  before(async () => {
    stack = await startStack('bad-input', { worker: false });
    before_ = await workflows();
  });

  after(async () => {
    await stack?.stop();
  });

  test('the CLI: every malformed option exits 2 naming the flag', async () => {
    const cases = cliCases();
    const results = await runCliBatch(
      cases.map((c) => c.args),
      stack.env,
    );
    const wrong: string[] = [];
    cases.forEach((c, i) => {
      const res = results[i]!;
      if (res.code !== 2 || !c.flag.test(res.stderr)) {
        wrong.push(`${c.label}: exit ${res.code}, stderr ${JSON.stringify(res.stderr.slice(0, 200))}`);
      }
    });
    console.log(
      `CLI: ${cases.length} malformed inputs, ${cases.length - wrong.length} rejected with exit 2 and the flag named`,
    );
    assert.deepEqual(wrong, []);
  });

  test('the real binary, argv as the shell passes it: exit 2, also when Temporal is unreachable', async () => {
    const unreachable = { ...stack.env, TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const runs: [string[], RegExp][] = [
      [
        ['export', 'altcraft', '--source-type', 'database', '--source-id', '1; DROP TABLE x'],
        /--source-id: expected a positive integer/,
      ],
      [['export', 'apsis-profile', '--export-key', '..'], /--export-key: an export key cannot be "\." or "\.\."/],
      [['export', 'mytracker', '--segment', '5', '--fields', 'idDevice;rm -rf /'], /--fields/],
      [
        ['export', 'altcraft', '--source-type', 'database', '--source-id', '1', '--id', '../../etc'],
        /--id: a workflow id/,
      ],
    ];
    for (const [args, message] of runs) {
      const res = await runCli(args, unreachable, 60_000);
      assert.equal(res.code, 2, `${args.join(' ')} -> ${res.code}: ${res.stderr}`);
      assert.match(res.stderr, message);
    }
  });

  test('the typed client: validate and start throw InputError naming the field, nothing reaches Temporal', async () => {
    const wrong: string[] = [];
    const cases = clientCases();
    for (const c of cases) {
      const named = new RegExp(`(^|; )${c.field}[.:]|${c.field}`);
      const check = (err: unknown) => err instanceof InputError && named.test(err.message);
      if (c.workflowId === undefined) {
        try {
          ExportClient.validate(c.provider, c.input);
          wrong.push(`${c.label}: validate accepted it`);
        } catch (err) {
          if (!check(err)) wrong.push(`${c.label}: validate threw ${String(err)}`);
        }
      }
      try {
        await startUnchecked(
          stack.client,
          c.provider,
          c.input,
          c.workflowId !== undefined ? { workflowId: c.workflowId } : {},
        );
        wrong.push(`${c.label}: start accepted it`);
      } catch (err) {
        if (!check(err)) wrong.push(`${c.label}: start threw ${String(err)}`);
      }
    }
    console.log(
      `client: ${cases.length} malformed inputs, ${cases.length - wrong.length} rejected with InputError naming the field`,
    );
    assert.deepEqual(wrong, []);
  });

  test('values that are data stay data: quotes and ../ in a filter value or export key pass unchanged', () => {
    const filter = { city: '1"; DROP TABLE profiles; --' };
    assert.deepEqual(
      (ExportClient.validate('altcraft', { sourceType: 'segment', sourceId: 3, filter }) as { filter: object }).filter,
      filter,
    );
    // An APSIS filter is an expression over the segments' names (issue 11), passed on as written.
    const expression = '!(europe) & women';
    const segment = ExportClient.validate('apsis-segment', {
      section: 's',
      segments: ['europe=com.x.europe', 'women=com.x.women'],
      filter: expression,
    });
    assert.equal((segment as { filter: string }).filter, expression);
    for (const exportKey of ['../../admin', 'jürgen@exämple.de', 'user/42@example.com']) {
      assert.equal(
        (ExportClient.validate('apsis-profile', { exportKey }) as { exportKey: string }).exportKey,
        exportKey,
      );
    }
  });

  test('not one workflow was started', async () => {
    assert.equal(await workflows(), before_);
  });
});
