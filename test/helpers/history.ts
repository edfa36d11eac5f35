/**
 * Flattens a workflow history into searchable text, decoding every payload's bytes as UTF-8 (payloads hold
 * JSON), so a test can assert that a secret appears nowhere in it.
 */
export function historyText(history: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  const walk = (value: unknown): void => {
    if (value === null || value === undefined) return;
    if (value instanceof Uint8Array) {
      parts.push(Buffer.from(value).toString('utf8'));
      return;
    }
    if (typeof value === 'object') {
      if (seen.has(value)) return;
      seen.add(value);
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
        parts.push(key);
        walk(inner);
      }
      return;
    }
    parts.push(String(value));
  };
  walk(history);
  return parts.join('\n');
}
