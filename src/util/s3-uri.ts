/**
 * `s3://bucket/prefix` locations for EXPORT_DIR and manifest paths. Pure code: config, activities and
 * clients use it alike.
 */
export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slashes; '' for the bucket root. */
  key: string;
}

/** True for values meant as an S3 location (`s3://...`), valid or not. */
export function isS3Uri(value: string): boolean {
  return /^s3:\/\//i.test(value.trim());
}

// S3 bucket naming rules (3-63 chars, lower-case letters, digits, dots, hyphens; starts/ends alphanumeric).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `s3://bucket[/key...]`; undefined when the bucket name is not a valid S3 bucket name. */
export function parseS3Uri(value: string): S3Location | undefined {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/i.exec(value.trim());
  if (!match || !BUCKET.test(match[1]!)) return undefined;
  const key = (match[2] ?? '')
    .split('/')
    .filter((part) => part !== '')
    .join('/');
  return { bucket: match[1]!, key };
}

/** `s3://bucket/key` with single slashes and no trailing slash. */
export function formatS3Uri(location: S3Location): string {
  return location.key ? `s3://${location.bucket}/${location.key}` : `s3://${location.bucket}`;
}

/** Appends one path segment to an S3 location's key. */
export function s3Child(location: S3Location, name: string): S3Location {
  return { bucket: location.bucket, key: location.key ? `${location.key}/${name}` : name };
}
