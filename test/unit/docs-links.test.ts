import assert from 'node:assert/strict';
import {
  existsSync,
  mkdtempSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';

/**
 * The README and docs/ must read true on a fresh clone: every relative link points at a file of the repository,
 * every `#anchor` at a heading of that file (GitHub's slugs), and no source file sends the reader to documents
 * outside the repository (the `../shared` folder beside a checkout, which a clone or an npm install lacks).
 */
const ROOT = path.resolve(__dirname, '..', '..');

/** Markdown files a reader of the repository meets: README.md and everything under docs/. */
function markdownFiles(root: string): string[] {
  const out = [path.join(root, 'README.md')];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.md')) out.push(full);
    }
  };
  walk(path.join(root, 'docs'));
  return out.filter((f) => existsSync(f));
}

/** The text without fenced code blocks (and, unless kept, inline code spans), where a `[x](y)` is not a link. */
function prose(markdown: string, keepInlineCode = false): string {
  const lines: string[] = [];
  let fence: string | undefined;
  // HTML comments are not rendered: a link inside one is a note, not a link (keep the line count).
  const visible = markdown.replace(/<!--[\s\S]*?-->/g, (c) => c.replace(/[^\n]/g, ''));
  for (const line of visible.split('\n')) {
    const opener = /^\s*(```+|~~~+)/.exec(line)?.[1];
    if (fence) {
      if (opener && opener[0] === fence[0] && opener.length >= fence.length) fence = undefined;
      lines.push('');
    } else if (opener) {
      fence = opener;
      lines.push('');
    } else {
      lines.push(keepInlineCode ? line : line.replace(/(`+)[\s\S]*?\1/g, ''));
    }
  }
  return lines.join('\n');
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, … */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[*~`]/g, ''); // emphasis and code marks
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a markdown file offers: its headings' slugs (with GitHub's -n suffixes) and explicit ids. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(markdown, true).split('\n')) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = githubSlug(heading);
      const n = seen.get(slug) ?? 0;
      seen.set(slug, n + 1);
      anchors.add(n === 0 ? slug : `${slug}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  return anchors;
}

/** Relative links of one markdown file that do not resolve, as readable lines. */
export function brokenLinks(file: string, root: string): string[] {
  const text = readFileSync(file, 'utf8');
  const problems: string[] = [];
  const targets: string[] = [];
  for (const m of prose(text).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
  for (const m of prose(text).matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) targets.push(m[1]!);
  for (const target of targets) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: …: not ours to check offline
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    const resolved = pathPart ? path.resolve(path.dirname(file), decodeURIComponent(pathPart)) : file;
    const where = `${path.relative(root, file)}: (${target})`;
    if (!resolved.startsWith(root + path.sep) && resolved !== root) {
      problems.push(`${where} points outside the repository`);
      continue;
    }
    if (!existsSync(resolved)) {
      problems.push(`${where}: no such file ${path.relative(root, resolved)}`);
      continue;
    }
    if (anchor !== undefined && anchor !== '') {
      if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) {
        problems.push(`${where}: an anchor into something that is not a markdown file`);
      } else if (!anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) {
        problems.push(`${where}: no heading with anchor #${anchor} in ${path.relative(root, resolved)}`);
      }
    }
  }
  return problems;
}

/** Names of the documents beside a checkout (../shared) that no clone has. */
const OUTSIDE_DOCUMENTS = /\b(PROVIDERS|CONTRACT|DESIGN|STYLE)\.md\b|\bseeds\/|\bseeds? 00\d\b/;

/**
 * Places in one source file that send a reader to ../shared. An import of `src/shared/` (e.g.
 * `'../shared/inputs'` from src/workflows/) resolves inside src/ and is not one.
 */
export function outsideReferences(file: string, srcRoot: string): string[] {
  const problems: string[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const at = `${path.relative(path.dirname(srcRoot), file)}:${i + 1}`;
      for (const m of line.matchAll(/((?:\.\.\/)+)shared\b/g)) {
        const resolved = path.resolve(path.dirname(file), m[1]!, 'shared');
        if (!resolved.startsWith(srcRoot + path.sep)) problems.push(`${at}: ${m[0]} leaves src/: ${line.trim()}`);
      }
      if (OUTSIDE_DOCUMENTS.test(line)) problems.push(`${at}: cites a document outside the repository: ${line.trim()}`);
    });
  return problems;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => path.join(dir, name))
    .filter((f) => /\.(ts|cjs|mjs|js)$/.test(f) && statSync(f).isFile());
}

describe('documentation links', () => {
  test('every relative link and anchor in README.md and docs/**/*.md resolves', () => {
    const files = markdownFiles(ROOT);
    assert.ok(files.length >= 10, `expected README.md and the docs/ pages, found ${files.length}`);
    const problems = files.flatMap((f) => brokenLinks(f, ROOT));
    assert.deepEqual(problems, []);
  });

  test('no file in src/ refers to ../shared or the documents in it', () => {
    const srcRoot = path.join(ROOT, 'src');
    const problems = sourceFiles(srcRoot).flatMap((f) => outsideReferences(f, srcRoot));
    assert.deepEqual(problems, []);
  });

  test('the checker itself finds a missing file, a missing anchor and an outside citation', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'docs-links-'));
    try {
      mkdirSync(path.join(root, 'docs', 'vendors'), { recursive: true });
      mkdirSync(path.join(root, 'src', 'workflows'), { recursive: true });
      writeFileSync(
        path.join(root, 'README.md'),
        [
          '# Title',
          '[ok](docs/a.md#storage-local-or-s3) [ok too](#title) [web](https://example.com/x.md)',
          '[gone](docs/missing.md) [bad anchor](docs/a.md#nowhere) `[code](not/a/link.md)`',
          '<!-- a note: [later](docs/later.md) -->',
          '```',
          '[fenced](not/a/link.md)',
          '```',
        ].join('\n'),
      );
      writeFileSync(
        path.join(root, 'docs', 'a.md'),
        '# A\n\n## Storage: local or S3\n\n## `patched()` and *replay*\n\n## Repeat\n\n## Repeat\n',
      );
      writeFileSync(
        path.join(root, 'docs', 'vendors', 'b.md'),
        '[up](../a.md#patched-and-replay) [dup](../a.md#repeat-1)\n',
      );
      const problems = markdownFiles(root).flatMap((f) => brokenLinks(f, root));
      assert.equal(problems.length, 2, problems.join('\n'));
      assert.match(problems[0]!, /README\.md: \(docs\/missing\.md\): no such file/);
      assert.match(problems[1]!, /README\.md: \(docs\/a\.md#nowhere\): no heading with anchor #nowhere/);

      const srcRoot = path.join(root, 'src');
      const file = path.join(srcRoot, 'workflows', 'x.ts');
      writeFileSync(
        file,
        "import { a } from '../shared/inputs';\n// see ../../shared/PROVIDERS.md\n/** as seed 004 shows */\n",
      );
      const refs = outsideReferences(file, srcRoot);
      assert.equal(refs.length, 3, refs.join('\n'));
      assert.match(refs[0]!, /x\.ts:2: \.\.\/\.\.\/shared leaves src/);
      assert.match(refs[1]!, /x\.ts:2: cites a document outside/);
      assert.match(refs[2]!, /x\.ts:3: cites a document outside/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('GitHub slugs', () => {
    assert.equal(githubSlug('Storage: local or S3'), 'storage-local-or-s3');
    assert.equal(
      githubSlug('Quick start (fresh machine: Node.js ≥ 20.18, Python 3 with pip)'),
      'quick-start-fresh-machine-nodejs--2018-python-3-with-pip',
    );
    assert.equal(githubSlug('What the simulator plays, and why'), 'what-the-simulator-plays-and-why');
    assert.equal(githubSlug('`EXPORT_DIR` and **S3**'), 'export_dir-and-s3');
  });
});
