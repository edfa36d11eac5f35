/**
 * File names from vendors become local paths, so they are sanitised: no directories, no traversal, no control
 * characters, no hidden files, bounded length. Pure code: used by workflows and activities alike.
 */
const MAX_NAME = 120;

export function sanitizeFileName(raw: string, fallback = 'export'): string {
  let name = raw.split(/[\\/]/).pop() ?? '';
  try {
    name = decodeURIComponent(name);
  } catch {
    // keep the raw text: a malformed escape is not worth failing an export over
  }
  name = name
    .split(/[\\/]/)
    .pop()!
    .replace(/[\u0000-\u001f\u007f<>"|?*]/g, '_')
    .replace(/^[.\s]+/, '')
    .replace(/\s+$/, '');
  if (name === '' || name === '.' || name === '..') name = fallback;
  if (name.length > MAX_NAME) {
    const dot = name.lastIndexOf('.', name.length - 1);
    const ext = dot > 0 && name.length - dot <= 12 ? name.slice(dot) : '';
    name = name.slice(0, MAX_NAME - ext.length) + ext;
  }
  return name;
}

/** The last path segment of a URL (absolute or relative), without its query. */
export function lastPathSegment(url: string): string {
  const path = url.split(/[?#]/)[0] ?? '';
  return path.split('/').filter(Boolean).pop() ?? '';
}

/** Names for a list of URLs: sanitised, and made unique by a numeric prefix when two would collide. */
export function fileNamesFor(urls: readonly string[], fallbackBase: string, extension = ''): string[] {
  const used = new Set<string>();
  return urls.map((url, index) => {
    let name = sanitizeFileName(lastPathSegment(url), `${fallbackBase}-${index + 1}${extension}`);
    if (used.has(name)) name = sanitizeFileName(`${index + 1}-${name}`);
    used.add(name);
    return name;
  });
}
