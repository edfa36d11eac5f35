import { FAILURE_TYPES } from '../../shared/failure-types';
import { ClassifiedError, where } from '../errors';
import { APSIS_ENDPOINTS } from './constants';
import { ApsisProfileDocument } from './schemas';

/** Checks of the single-profile data URL's answer, classified here like every other APSIS answer. */
const at = (): string => where('apsis', APSIS_ENDPOINTS.profileData);
const details = (status: number) => ({ vendor: 'apsis' as const, endpoint: APSIS_ENDPOINTS.profileData, status });

/** A redirect could lead anywhere; following it would carry the access token along, so it is a final error. */
export function refuseProfileRedirect(status: number): ClassifiedError | undefined {
  if (status < 300 || status > 399) return undefined;
  return new ClassifiedError(
    FAILURE_TYPES.response,
    `${at()} answered with a redirect (HTTP ${status}); redirects are not followed, so the access token never leaves the APSIS host`,
    false,
    details(status),
  );
}

/** The profile data must come as JSON (or without a content type); an HTML page is not a profile. */
export function checkProfileContentType(contentType: string | string[] | undefined): ClassifiedError | undefined {
  const type = (Array.isArray(contentType) ? contentType[0] : contentType) ?? '';
  if (type === '' || /json/i.test(type)) return undefined;
  return new ClassifiedError(
    FAILURE_TYPES.response,
    `${at()} answered with Content-Type "${type}" instead of JSON`,
    false,
    details(200),
  );
}

/** Checks a stored profile export's text against the documented shape; the error says what is wrong. */
export function checkProfileDocument(text: string): ClassifiedError | undefined {
  const reject = (why: string): ClassifiedError =>
    new ClassifiedError(
      FAILURE_TYPES.response,
      `${at()} answered with something that is not a profile export: ${why}`,
      false,
      details(200),
    );
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return reject('not JSON');
  }
  const parsed = ApsisProfileDocument.safeParse(doc);
  if (parsed.success) return undefined;
  return reject(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
}
