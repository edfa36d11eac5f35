/**
 * How the simulated APSIS One reads the `segments` object of a profiles-in-segment report. Seed 003 shows no
 * body; APSIS's duplicates-export page gives it `segment_discriminators` ({name: discriminator}) and a `filter`
 * expression over those names (`"!(europe) & women"`). Played strictly by default: names must be words an
 * expression can hold and the filter is required, so a client that sends a body valid only under the looser
 * reading fails here as it would there. Written apart from the client's own parser on purpose.
 */

export interface SegmentsBodyRules {
  /** A report without `segments.filter` is refused (400), as the duplicates-export page reads. */
  requireFilter: boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The `errors` of a 400 problem document for this `segments` object, or undefined when APSIS would take it. */
export function segmentsBodyErrors(segments: unknown, rules: SegmentsBodyRules): Record<string, string[]> | undefined {
  if (typeof segments !== 'object' || segments === null || Array.isArray(segments)) {
    return { segments: ['The segments field is required.'] };
  }
  const s = segments as Record<string, unknown>;
  const map = s.segment_discriminators;
  if (typeof map !== 'object' || map === null || Array.isArray(map) || Object.keys(map).length === 0) {
    return { 'segments.segment_discriminators': ['Expected a non-empty object of segment name to discriminator.'] };
  }
  const names = Object.keys(map);
  const badName = names.find((n) => !NAME.test(n));
  if (badName !== undefined) {
    return { 'segments.segment_discriminators': [`Segment name '${badName}' is not a valid identifier.`] };
  }
  if (!Object.values(map).every((v) => typeof v === 'string' && v !== '')) {
    return { 'segments.segment_discriminators': ['Every segment name must map to a segment discriminator.'] };
  }
  if (s.filter === undefined || s.filter === null) {
    return rules.requireFilter ? { 'segments.filter': ['The Filter field is required.'] } : undefined;
  }
  if (typeof s.filter !== 'string') return { 'segments.filter': ['The Filter field must be a string.'] };
  const problem = filterProblem(s.filter, new Set(names));
  return problem ? { 'segments.filter': [problem] } : undefined;
}

/** Walks the expression as alternating operands and binary operators, with `!` prefixes and parentheses. */
function filterProblem(filter: string, names: Set<string>): string | undefined {
  const parts = filter.match(/[A-Za-z_][A-Za-z0-9_]*|[!&|()]|\S/g) ?? [];
  if (parts.length === 0) return 'The filter expression is empty.';
  let expectOperand = true;
  let depth = 0;
  for (const part of parts) {
    if (expectOperand) {
      if (part === '!') continue;
      if (part === '(') {
        depth++;
        continue;
      }
      if (!NAME.test(part)) return `Unexpected '${part}' in filter expression.`;
      if (!names.has(part)) return `Filter references unknown segment name '${part}'.`;
      expectOperand = false;
    } else if (part === ')') {
      if (--depth < 0) return "Unbalanced ')' in filter expression.";
    } else if (part === '&' || part === '|') {
      expectOperand = true;
    } else {
      return `Unexpected '${part}' in filter expression.`;
    }
  }
  if (expectOperand) return 'The filter expression ends without an operand.';
  if (depth !== 0) return "Unbalanced '(' in filter expression.";
  return undefined;
}
