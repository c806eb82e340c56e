import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { completionTree } from '../../src/cli/completion-tree.js';
import { BIN, REPO_ROOT } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Loads the scripts `acmectl completion SHELL` prints into real bash, zsh and fish (installed from Debian by
 * .ci/run) and asks each shell what it completes. The cases come from the command tree, so every command path and
 * every option with fixed values is tried in every shell.
 */

const tree = completionTree(buildProgram(async () => {}));

function shellPath(shell: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${shell}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${shell} is not installed: apt-get install -y zsh fish (.ci/run installs them)`);
  }
}

const shQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/** What the shell offers for the word being typed after `typed` (words before it), with the script loaded. */
type Completer = (typed: string[], current: string) => string[];

function completers(scripts: Record<string, string>): Record<'bash' | 'zsh' | 'fish', Completer> {
  const run = (shell: string, args: string[]): string[] => execFileSync(shellPath(shell), args, { encoding: 'utf8', env: { ...process.env, HOME: scripts.home!, XDG_CONFIG_HOME: scripts.home! } }).split('\n').filter(Boolean);
  return {
    bash: (typed, current) =>
      run('bash', ['--norc', '--noprofile', '-c', `source ${shQuote(scripts.bash!)}; COMP_WORDS=(acmectl ${[...typed, current].map(shQuote).join(' ')}); COMP_CWORD=${typed.length + 1}; _acmectl; printf '%s\\n' "\${COMPREPLY[@]}"`]),
    // zsh: the function as compinit loads it from $fpath, with compadd and _files recording what it offers.
    zsh: (typed, current) =>
      run('zsh', ['-f', '-c', `fpath=(${shQuote(scripts.zshDir!)} $fpath); autoload -U compinit; compinit -u -D; [[ \${_comps[acmectl]} == _acmectl ]] || { print -u2 not registered; exit 3; }; compadd() { [[ $1 == -- ]] && shift; local w; for w in "$@"; do [[ $w == \${PREFIX}* ]] && print -r -- $w; done; true; }; _files() { print -r -- '<files>'; }; PREFIX=${shQuote(current)}; words=(acmectl ${[...typed, current].map(shQuote).join(' ')}); CURRENT=${typed.length + 2}; _acmectl; true`]),
    fish: (typed, current) =>
      run('fish', ['--no-config', '-c', `source ${shQuote(scripts.fish!)}; complete -C ${shQuote(['acmectl', ...typed, current].join(' '))}`]).map((line) => line.split('\t')[0]!),
  };
}

describe('shell completions loaded into real shells', () => {
  let shells: Record<'bash' | 'zsh' | 'fish', Completer>;

  beforeAll(() => {
    const dir = tempDir('acmectl-completions-');
    const script = (shell: string): string => execFileSync(process.execPath, [BIN, 'completion', shell], { encoding: 'utf8', cwd: REPO_ROOT });
    mkdirSync(join(dir, 'zsh'));
    writeFileSync(join(dir, 'acmectl.bash'), script('bash'));
    writeFileSync(join(dir, 'zsh', '_acmectl'), script('zsh'));
    writeFileSync(join(dir, 'acmectl.fish'), script('fish'));
    shells = completers({ home: dir, bash: join(dir, 'acmectl.bash'), zshDir: join(dir, 'zsh'), fish: join(dir, 'acmectl.fish') });
  });

  const paths = [...tree.paths].filter(([, p]) => p.subcommands.length > 0 || p.argumentChoices.length > 0);
  // each option with fixed values, typed after an argument of a command that takes it
  const choiceOptions = [...tree.values].flatMap(([option, v]) => {
    if (v.kind !== 'choice') return [];
    const owner = tree.globalOptions.includes(option) ? 'list' : [...tree.paths].find(([, p]) => p.options.includes(option))![0];
    return [[option, owner, v.values] as const];
  });
  const leafWithOption = [...tree.paths].find(([path, p]) => path.startsWith('issue') && p.options.includes('--key-type'))!;

  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    describe(shell, () => {
      it.each(paths.map(([path, p]) => [path || '(top)', path, p] as const))('offers the subcommands of %s', (_label, path, p) => {
        const offered = shells[shell](path ? path.split(' ') : [], '');
        for (const word of [...p.subcommands, ...p.argumentChoices]) expect(offered).toContain(word);
      });
      it('completes a prefix to the matching command only', () => {
        expect(shells[shell]([], 'ren')).toEqual(['renew']);
      });
      it.each(choiceOptions)('offers the values of %s (of %s)', (option, owner, values) => {
        expect(shells[shell]([...owner.split(' '), 'example.com', option], '').filter((w) => !w.startsWith('-')).sort()).toEqual([...values].sort());
      });
      it('offers the options of a leaf command, and global options, and skips option values when finding the command', () => {
        const offered = shells[shell](['--store', 'redis://h', leafWithOption[0], 'example.com'], '--');
        expect(offered).toContain('--key-type');
        expect(offered).toContain('--json');
      });
      it('completes file names after --webroot', () => {
        const offered = shells[shell](['issue', 'example.com', '--webroot'], '');
        if (shell === 'zsh') expect(offered).toEqual(['<files>']);
        else expect(offered.length).toBeGreaterThan(0);
      });
    });
  }
});
