/**
 * docs/cli.md is the user-facing contract: it has a section for every command of the real command tree and
 * names every option, so that a command or option added without its documentation fails here (as man/acmectl.1
 * and completions/ are checked in src/cli/shipped-files.test.ts).
 */
import { readFileSync } from 'node:fs';
import type { Command as Commander } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { visibleSubcommands } from '../../src/cli/visible-commands.js';

const doc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
const program = buildProgram(async () => {});
const headings = new Set(doc.split('\n').flatMap((line) => /^###\s+(.+)$/.exec(line)?.[1] ?? []));

function allCommands(command: Commander, path: string[] = []): { path: string[]; command: Commander }[] {
  return visibleSubcommands(command).flatMap((c) => [{ path: [...path, c.name()], command: c }, ...allCommands(c, [...path, c.name()])]);
}

describe('docs/cli.md', () => {
  it.each(allCommands(program).map(({ path, command }) => [path.join(' '), command] as const))('documents "%s" and its options', (path, command) => {
    const [top] = path.split(' ');
    // A group has one section that names each of its commands (### account: `account register`, ...), or a
    // section per command (### store copy).
    const section = headings.has(path) || [...headings].some((heading) => heading.startsWith(`${path} `)) || (headings.has(top!) && doc.includes(`\`${path}`));
    expect(section, `a section for ${path}`).toBe(true);
    for (const option of command.options) expect(doc, `${path} ${option.long}`).toContain(`\`${option.long}`);
  });

  it('documents the global options', () => {
    for (const option of program.options) expect(doc, option.long).toContain(`\`${option.long}`);
  });
});
