import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command as Commander } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMPLETION_FILES } from './completion-files.js';
import { buildProgram, VERSION } from './program.js';
import { visibleSubcommands } from './visible-commands.js';

const root = new URL('../../', import.meta.url);
const program = buildProgram(async () => {});

function allCommands(command: Commander, path: string[] = []): { path: string[]; command: Commander }[] {
  return visibleSubcommands(command).flatMap((c) => [{ path: [...path, c.name()], command: c }, ...allCommands(c, [...path, c.name()])]);
}

describe.each(Object.entries(COMPLETION_FILES))('the %s completion in completions/', (_shell, { file, render }) => {
  it('is the rendering of the current command tree (run scripts/generate-completions.js after changing commands)', () => {
    expect(readFileSync(new URL(file, root), 'utf8')).toBe(render(program));
  });
  it('offers every command and option', () => {
    const script = readFileSync(new URL(file, root), 'utf8');
    for (const { command } of allCommands(program)) {
      expect(script).toContain(command.name());
      for (const option of command.options) expect(script).toMatch(new RegExp(`(^|[\\s|'("=])(--|-l )${option.long!.slice(2)}\\b`, 'm'));
    }
  });
});

describe('man/acmectl.1', () => {
  const page = readFileSync(new URL('man/acmectl.1', root), 'utf8').replace(/\\-/g, '-').replace(/\\f[BIR]/g, '');
  it.each(allCommands(program).map(({ path, command }) => [path.join(' '), command] as const))('documents "%s" and its options', (path, command) => {
    expect(page).toMatch(new RegExp(`\\.SS "?${path}[ ,"]`));
    for (const option of command.options) expect(page).toContain(option.long!);
  });
  it('documents the global options', () => {
    for (const option of program.options) {
      expect(page).toContain(option.long!);
      // e.g. `.BR \-V ", " \-\-version`: the short form is documented next to the long one
      if (option.short) expect(page).toMatch(new RegExp(`^\\.BR ${option.short} ", " ${option.long}$`, 'm'));
    }
  });
  // man as a user runs it (groff with every warning on: -ww), at the 80 columns man uses off a terminal. A macro
  // that does not exist, a font escape that is wrong, a line that cannot be broken: each is a warning on stderr.
  it('renders without warnings (man --warnings)', () => {
    const rendered = spawnSync('man', ['--warnings', '-E', 'UTF-8', '-l', fileURLToPath(new URL('man/acmectl.1', root))], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, LC_ALL: 'C.UTF-8', MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat' },
    });
    expect(rendered.error, 'man is not installed: apt-get install man-db (.ci/run installs it)').toBeUndefined();
    expect(rendered.stderr).toBe('');
    expect(rendered.status).toBe(0);
    expect(rendered.stdout).toMatch(/^NAME\n +acmectl +- /m);
  });
  it('names the current version in its header', () => {
    expect(page.split('\n')[0]).toContain(`"acmectl ${VERSION}"`);
  });
});
