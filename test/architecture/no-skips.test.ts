import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';

/**
 * The suite's verdict counts only what ran: no test is skipped, conditionally or not. A test that needs a tool
 * or a server installs or starts it (or fails saying why); suites that need something the project's machines
 * cannot have are not collected at all (vitest.real-stores.config.ts). This reads every test file under src/ (names ending in .test.ts)
 * and everything under test/ for the ways vitest skips; product code that skips things of its own (import certbot skips lineages) is not a test.
 */
const SKIPS: [string, RegExp][] = [
  // describe/it/test/suite, with or without modifiers (.concurrent, .each ...), then a skip, skipIf, runIf or todo
  ['a skipping test or suite modifier', /\b(?:it|test|describe|suite|bench)(?:\.[A-Za-z]+)*\.(?:skip|skipIf|runIf|todo)\b/],
  // a skip called on the test context, or destructured from it, inside a test
  ['a skip from inside a test', /(?:^|[^\w.])skip\s*\(|\.skip\s*\(/],
];

/** Fixtures that skip on purpose: the summary reporter's own test runs them in a child vitest (never collected here). */
const ALLOWED = ['test/support/fixtures/summary-reporter/'];

/** "path:line: what" for every line of the text that skips. */
export function skipsIn(path: string, text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, index) => {
    const hit = SKIPS.find(([, pattern]) => pattern.test(line));
    if (hit !== undefined) found.push(`${path}:${index + 1}: ${hit[0]}: ${line.trim()}`);
  });
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(?:ts|mts|cts|js|mjs|cjs)$/.test(entry.name) ? [path] : [];
  });
}

describe('the test suite', () => {
  it('skips nothing: no test file or test helper contains a skip', () => {
    const files = ['src', 'test'].flatMap((dir) => sourceFiles(join(REPO_ROOT, dir))).map((path) => relative(REPO_ROOT, path)).filter((path) => path.startsWith('test/') || /\.test\.[mc]?[jt]s$/.test(path));
    expect(files.length).toBeGreaterThan(100);
    const skips = files
      .filter((path) => !ALLOWED.some((allowed) => path.startsWith(allowed)))
      .flatMap((path) => skipsIn(path, readFileSync(join(REPO_ROOT, path), 'utf8')));
    expect(skips).toEqual([]);
  });
});

describe('the skip finder itself', () => {
  // Assembled from parts, so that this file does not contain what it looks for.
  const dot = (...parts: string[]): string => parts.join('.');
  it.each([
    [`${dot('it', 'skip')}('x', () => {})`],
    [`${dot('it', 'skipIf')}(!hasKeytool())('x', () => {})`],
    [`${dot('describe', 'runIf')}(url !== undefined)('x', () => {})`],
    [`${dot('test', 'concurrent', 'skip')}('x', () => {})`],
    [`${dot('describe', 'skip')}('x', () => {})`],
    [`${dot('it', 'todo')}('later')`],
    [`${dot('context', 'skip')}('no IPv6 loopback')`],
    [`it('x', ({ skip }) => { ${'skip'}(); })`],
  ])('finds %s', (line) => {
    expect(skipsIn('sample.test.ts', `import x from 'y';\n${line}\n`)).toEqual([expect.stringMatching(/^sample\.test\.ts:2: /)]);
  });

  it('leaves alone words that only look alike', () => {
    const text = ["it('skips malformed values and goes on', () => {});", 'const skipped = await renewDue(home);', "expect(line).toMatch(/skips the wait/);"].join('\n');
    expect(skipsIn('sample.test.ts', text)).toEqual([]);
  });
});
