/**
 * Segment names and the `filter` expression of an APSIS One profiles-in-segment report. Seed 003 shows no body;
 * APSIS's sibling duplicates-export page gives the body a `filter` over the segment *names* (`"!(europe) & women"`),
 * so names are simple words (a discriminator's dots and dashes may not parse inside an expression) and, without a
 * filter of the user's own, the report asks for the explicit union of all its segments. Pure code: the workflows
 * validate their input with it too.
 */

/** A segment name usable inside a filter expression: a letter, then letters, digits or `_`. */
export const SEGMENT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export interface NamedSegment {
  name: string;
  discriminator: string;
}

/** `vip=com.apsis1.segments.vip` -> name `vip`; a bare discriminator has no name of its own. */
export function splitSegmentSpec(spec: string): { name?: string; discriminator: string } {
  const eq = spec.indexOf('=');
  if (eq < 0) return { discriminator: spec.trim() };
  return { name: spec.slice(0, eq).trim(), discriminator: spec.slice(eq + 1).trim() };
}

/** Names each segment: its own name, or `s1`, `s2`, ... by its place in the list. */
export function namedSegments(specs: readonly string[]): NamedSegment[] {
  return specs.map((spec, i) => {
    const { name, discriminator } = splitSegmentSpec(spec);
    return { name: name ?? `s${i + 1}`, discriminator };
  });
}

/** The filter a report is requested with: the user's own, or the union of every segment (`s1 | s2`). */
export function reportFilter(segments: readonly NamedSegment[], filter: string | undefined): string {
  return filter ?? segments.map((s) => s.name).join(' | ');
}

type Token = { kind: 'name'; text: string; at: number } | { kind: 'op'; text: string; at: number };

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:([A-Za-z][A-Za-z0-9_]*)|([!&|()]))/y;
  let at = 0;
  while (at < expr.length) {
    if (/^\s*$/.test(expr.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(expr);
    if (!m) {
      const bad = expr.slice(at).trimStart()[0] ?? '';
      throw new Error(
        `unexpected "${bad}" at position ${expr.length - expr.slice(at).trimStart().length + 1}; ` +
          'a filter is segment names joined with & (and), | (or), ! (not) and parentheses',
      );
    }
    const start = m.index + m[0].length - (m[1] ?? m[2] ?? '').length;
    tokens.push(m[1] ? { kind: 'name', text: m[1], at: start } : { kind: 'op', text: m[2]!, at: start });
    at = re.lastIndex;
  }
  return tokens;
}

/**
 * Checks a filter expression (`!(europe) & women`) and returns the names it references; throws an Error whose
 * message says what is wrong (unexpected character, unbalanced parenthesis, missing operand).
 */
export function filterReferences(expr: string): string[] {
  const tokens = tokenize(expr);
  const names: string[] = [];
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const describe = (t: Token | undefined): string => (t ? `"${t.text}" at position ${t.at + 1}` : 'the end');
  const unary = (): void => {
    const t = peek();
    if (t?.kind === 'op' && t.text === '!') {
      pos++;
      unary();
    } else if (t?.kind === 'op' && t.text === '(') {
      pos++;
      expression();
      const close = peek();
      if (!(close?.kind === 'op' && close.text === ')')) throw new Error(`expected ")" but found ${describe(close)}`);
      pos++;
    } else if (t?.kind === 'name') {
      names.push(t.text);
      pos++;
    } else {
      throw new Error(`expected a segment name, "!" or "(" but found ${describe(t)}`);
    }
  };
  const chain = (op: string, inner: () => void) => () => {
    inner();
    for (let t = peek(); t?.kind === 'op' && t.text === op; t = peek()) {
      pos++;
      inner();
    }
  };
  const expression = chain('|', chain('&', unary));
  expression();
  if (pos < tokens.length) throw new Error(`expected "&", "|" or the end but found ${describe(peek())}`);
  return names;
}
