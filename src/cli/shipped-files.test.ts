import { readFileSync } from 'node:fs';
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
  it('names the current version in its header', () => {
    expect(page.split('\n')[0]).toContain(`"acmectl ${VERSION}"`);
  });
});
