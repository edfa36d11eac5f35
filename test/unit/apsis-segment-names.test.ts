import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { segmentsBody } from '../../src/activities/apsis';
import { ExportClient, InputError } from '../../src/client';
import { reportBodyRejected } from '../../src/providers/apsis/client';
import { filterReferences, namedSegments } from '../../src/shared/apsis-filter';
import { FAILURE_TYPES } from '../../src/shared/failure-types';

describe('APSIS segment report body: names and filter', () => {
  test('unnamed segments are s1, s2, ... in order; a name=discriminator keeps its own name', () => {
    assert.deepEqual(namedSegments(['com.a', 'vip=com.apsis1.segments.vip', 'com.c']), [
      { name: 's1', discriminator: 'com.a' },
      { name: 'vip', discriminator: 'com.apsis1.segments.vip' },
      { name: 's3', discriminator: 'com.c' },
    ]);
  });

  test('without --filter the body asks for the explicit union; with one it is sent as written', () => {
    assert.deepEqual(segmentsBody(['com.a', 'com.b'], undefined), {
      segment_discriminators: { s1: 'com.a', s2: 'com.b' },
      filter: 's1 | s2',
    });
    assert.deepEqual(segmentsBody(['com.a'], undefined).filter, 's1');
    assert.deepEqual(segmentsBody(['europe=com.e', 'women=com.w'], '!(europe) & women'), {
      segment_discriminators: { europe: 'com.e', women: 'com.w' },
      filter: '!(europe) & women',
    });
  });

  test('a filter parses to the names it references, with !, &, | and parentheses', () => {
    assert.deepEqual(filterReferences('!(europe) & women'), ['europe', 'women']);
    assert.deepEqual(filterReferences('(a | b) & !c | d_2'), ['a', 'b', 'c', 'd_2']);
    for (const bad of ['', 'a &', '& a', '(a', 'a)', 'a b', 'a = 1', 'com.x', 'a && b', '!']) {
      assert.throws(() => filterReferences(bad), Error, bad);
    }
  });

  test('the typed client rejects filters over unknown names and names that are not simple words', () => {
    const ok = { section: 'com.s', segments: ['europe=com.e', 'women=com.w'] };
    assert.doesNotThrow(() => ExportClient.validate('apsis-segment', { ...ok, filter: 'europe | !women' }));
    assert.doesNotThrow(() =>
      ExportClient.validate('apsis-segment', { section: 'com.s', segments: ['com.a'], filter: 's1' }),
    );
    const cases: [object, RegExp][] = [
      [
        { ...ok, filter: 'europe & men' },
        /^filter: refers to "men", which is not a segment name; the names are europe, women/,
      ],
      [{ ...ok, filter: 's1' }, /^filter: refers to "s1"/],
      [{ ...ok, filter: 'europe &' }, /^filter: not a valid filter expression/],
      [
        { section: 'com.s', segments: ['eu-rope=com.e'] },
        /^segments\.0: the segment name "eu-rope" must be a simple word/,
      ],
      [{ section: 'com.s', segments: ['x=com.a', 'x=com.b'] }, /^segments\.1: the segment name "x" is used twice/],
      [{ section: 'com.s', segments: ['a=com.a', 'b=com.a'] }, /a segment is listed twice/],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => ExportClient.validate('apsis-segment', input),
        (err: unknown) => err instanceof InputError && message.test(err.message),
        JSON.stringify(input),
      );
    }
  });

  test('a 400 naming a body field is a final request error quoting APSIS', () => {
    const err = reportBodyRejected(
      JSON.stringify({
        title: 'One or more validation errors occurred.',
        errors: { 'segments.filter': ['Bad token.'] },
      }),
    );
    assert.equal(err.type, FAILURE_TYPES.request);
    assert.equal(err.retryable, false);
    assert.match(err.message, /HTTP 400\): APSIS says "segments\.filter: Bad token\."/);
    assert.match(reportBodyRejected('{"detail":"filter is invalid"}').message, /APSIS says "filter is invalid"/);
    assert.match(reportBodyRejected('<html>nope</html>').message, /APSIS says "<html>nope<\/html>"/);
  });
});
