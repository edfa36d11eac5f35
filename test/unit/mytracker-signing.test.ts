import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authorizationHeader, signBaseline, signatureBaseline, urlencode } from '../../src/providers/mytracker/signing';

/**
 * The client's own signing module (src/providers/mytracker/signing.ts), written from the vendor's authentication
 * page (https://tracker.my.com/docs/api/export-api/authentication, quoted in docs/vendors/mytracker.md). The simulator
 * signs with a separate implementation; these vectors pin the client to the spec on its own.
 */
describe('myTracker request signing', () => {
  const secret = '72d2erEtbynf6f7ZYTsYKnb7';

  test('reproduces the documented test vector (GET, no body)', () => {
    const url = 'https://tracker.my.com/api/raw/v1/export/get.json?idReport=4';
    const baseline = signatureBaseline('GET', url);
    assert.equal(baseline, 'GET&https%3A%2F%2Ftracker.my.com%2Fapi%2Fraw%2Fv1%2Fexport%2Fget.json%3FidReport%3D4&');
    assert.equal(signBaseline(secret, baseline), 'PqrQR8zsgQU9Qcocjp6T6hnjF8Y=');
    assert.equal(
      authorizationHeader({ userId: '77658', secret }, 'get', url),
      'AuthHMAC 77658:PqrQR8zsgQU9Qcocjp6T6hnjF8Y=',
    );
  });

  /*
   * Second vector, derived without this code:
   * - The baseline was written out by hand from the rules in docs/vendors/mytracker.md: `:`->%3A, `/`->%2F, `?`->%3F,
   *   `=`->%3D, `&`->%26, space->`+`; letters, digits and `_.-~` kept. Non-ASCII characters become their UTF-8
   *   bytes: é = U+00E9 = 11101001b -> 110_00011 10_101001 = C3 A9; д = U+0434 = 10000110100b ->
   *   110_10000 10_110100 = D0 B4; ü = U+00FC = 11111100b -> 110_00011 10_111100 = C3 BC.
   * - The signature was computed with OpenSSL, not Node:
   *     printf '%s' '<baseline>' | openssl dgst -sha1 -hmac '72d2erEtbynf6f7ZYTsYKnb7' -binary | base64
   *   (the same command reproduces the documented vector above, PqrQR8zsgQU9Qcocjp6T6hnjF8Y=).
   */
  test('a POST with a body, and a query with spaces and non-ASCII, matches a hand-derived vector', () => {
    const url = 'https://tracker.my.com/api/segment/v1/export/create.json?idSegment=42&title=café д';
    const body = 'note=a b&x=ü';
    const baseline = signatureBaseline('POST', url, body);
    assert.equal(
      baseline,
      'POST&https%3A%2F%2Ftracker.my.com%2Fapi%2Fsegment%2Fv1%2Fexport%2Fcreate.json%3FidSegment%3D42%26title%3Dcaf%C3%A9+%D0%B4' +
        '&note%3Da+b%26x%3D%C3%BC',
    );
    assert.equal(signBaseline(secret, baseline), 'p4xA3LLBJGVGdUIVbmxNwpttMdM=');
    assert.equal(
      authorizationHeader({ userId: '77658', secret }, 'POST', url, body),
      'AuthHMAC 77658:p4xA3LLBJGVGdUIVbmxNwpttMdM=',
    );
  });

  test('form encoding leaves only letters, digits and _.-~; everything else is upper-case %XX', () => {
    assert.equal(
      urlencode("AZaz09_.-~ !'()*+,/:;=?@[]%&"),
      'AZaz09_.-~+%21%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D%25%26',
    );
    assert.equal(urlencode('%2C'), '%252C', 'an already-encoded URL is encoded again, as the vendor does');
  });

  test('the body is part of the signature', () => {
    const url = 'https://tracker.my.com/api/segment/v1/export/create.json?idSegment=1';
    const creds = { userId: '1', secret };
    assert.notEqual(authorizationHeader(creds, 'POST', url, ''), authorizationHeader(creds, 'POST', url, 'a=1'));
  });
});
