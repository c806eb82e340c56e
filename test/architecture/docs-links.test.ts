/**
 * What the code and the docs cite lives in the repository: comments (and test names) point at docs/*.md and
 * their sections, never at the design notes outside the project they were once written against, and every
 * docs/*.md file and #anchor they name exists. The Markdown links of README.md and docs/ are checked the same way.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

// Built from parts, so that this file does not cite them itself.
const OUTSIDE_CITATIONS = [new RegExp(`\\b${'SP'}${'EC'}\\b`), new RegExp(`\\b${'ARCHI'}${'TECTURE'}\\b`)];
const DOCS_REFERENCE = /\bdocs\/([\w.-]+\.md)(?:#([\w-]+))?/g;
const MARKDOWN_LINK = /\]\(([^)\s]+)\)/g;

/** GitHub's anchors for a Markdown file's headings: lower case, punctuation dropped, spaces as '-', repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** What is wrong with a reference to `file` (absolute) and `anchor`, or null. */
function problemWith(file: string, anchor: string | undefined): string | null {
  if (!existsSync(file)) return `${relative(root, file)} does not exist`;
  if (anchor === undefined || !file.endsWith('.md')) return null;
  return headingAnchors(readFileSync(file, 'utf8')).has(anchor) ? null : `${relative(root, file)} has no section #${anchor}`;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|js|mjs|cjs)$/.test(entry.name) ? [path] : [];
  });
}

/** Citations of files outside the project, and docs/*.md references that lead nowhere, as "file:line: problem". */
function sourceProblems(path: string, text: string): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, index) => {
    const where = `${path}:${index + 1}`;
    for (const pattern of OUTSIDE_CITATIONS) {
      if (pattern.test(line)) problems.push(`${where}: cites a document outside the repository: ${line.trim()}`);
    }
    for (const [, file, anchor] of line.matchAll(DOCS_REFERENCE)) {
      const problem = problemWith(join(root, 'docs', file!), anchor);
      if (problem) problems.push(`${where}: ${problem}`);
    }
  });
  return problems;
}

/** Relative Markdown links of a file (in the repository) that lead nowhere. */
function markdownProblems(path: string): string[] {
  const problems: string[] = [];
  const text = readFileSync(path, 'utf8');
  for (const [, target] of text.matchAll(MARKDOWN_LINK)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue; // https:, mailto:
    const [file, anchor] = target!.split('#') as [string, string | undefined];
    const problem = problemWith(file === '' ? path : resolve(dirname(path), file), anchor);
    if (problem) problems.push(`${relative(root, path)}: link ${target}: ${problem}`);
  }
  return problems;
}

describe('docs cited by the code and the docs', () => {
  it('comments and tests in src/ and test/ cite only docs in the repository, with sections that exist', () => {
    const files = [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'test'))];
    expect(files.length).toBeGreaterThan(100);
    expect(files.flatMap((file) => sourceProblems(relative(root, file), readFileSync(file, 'utf8')))).toEqual([]);
  });

  it('the links of README.md and docs/*.md lead to files and sections that exist', () => {
    const docs = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join(root, 'docs', name));
    expect(docs.map((file) => relative(root, file)).sort()).toEqual(['docs/architecture.md', 'docs/cli.md']);
    expect([join(root, 'README.md'), ...docs].flatMap(markdownProblems)).toEqual([]);
  });
});

describe('the checker itself', () => {
  it("makes GitHub's anchors, skipping code blocks and numbering repeats", () => {
    const anchors = headingAnchors(['# acmectl command-line contract', '## Exit codes', '### `store copy`', '```', '# not a heading', '```', '## Exit codes', '## Where things live (1/2)'].join('\n'));
    expect([...anchors]).toEqual(['acmectl-command-line-contract', 'exit-codes', 'store-copy', 'exit-codes-1', 'where-things-live-12']);
  });

  it('finds citations of outside documents, missing docs and missing sections', () => {
    const outside = ['SP', 'EC §4'].join('');
    const docs = 'docs/'; // split, so that the samples are not references of this file
    const text = [`// exit codes (${outside})`, `// see ${docs}cli.md#exit-codes`, `// see ${docs}cli.md#no-such-section`, `// see ${docs}nothing.md`, `// ${['ARCHI', 'TECTURE.md'].join('')}`].join('\n');
    expect(sourceProblems('x.ts', text)).toEqual([
      `x.ts:1: cites a document outside the repository: // exit codes (${outside})`,
      `x.ts:3: ${docs}cli.md has no section #no-such-section`,
      `x.ts:4: ${docs}nothing.md does not exist`,
      `x.ts:5: cites a document outside the repository: // ${['ARCHI', 'TECTURE.md'].join('')}`,
    ]);
  });
});
