import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { completionTree } from '../../src/cli/completion-tree.js';
import { certificateKey, encodeRecord } from '../../src/core/certificate-record.js';
import { openStore } from '../../src/store/open.js';
import { BIN, REPO_ROOT } from '../support/cli.js';
import { renewalSettings } from '../support/renewal-settings.js';
import { tempDir } from '../support/temp-dir.js';
import { leafWith, root } from '../support/test-pki.js';

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

/** The environment without the developer's ACMECTL_* variables, which would choose another store. */
function withoutAcmectlVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('ACMECTL_')));
}

const shQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * What the shell offers for the word being typed after `typed` (words before it), with the script loaded; `env`
 * is added to the shell's environment (ACMECTL_HOME: where the `acmectl` on its PATH finds its store).
 */
type Completer = (typed: string[], current: string, env?: Record<string, string>) => string[];

function completers(scripts: Record<string, string>): Record<'bash' | 'zsh' | 'fish', Completer> {
  const run = (shell: string, args: string[], env: Record<string, string> = {}): string[] =>
    execFileSync(shellPath(shell), args, {
      encoding: 'utf8',
      env: { ...withoutAcmectlVariables(process.env), HOME: scripts.home!, XDG_CONFIG_HOME: scripts.home!, ACMECTL_HOME: join(scripts.home!, 'no-store-here'), PATH: `${scripts.bin}:${process.env.PATH}`, ...env },
    })
      .split('\n')
      .filter(Boolean);
  return {
    bash: (typed, current, env) =>
      run('bash', ['--norc', '--noprofile', '-c', `source ${shQuote(scripts.bash!)}; COMP_WORDS=(acmectl ${[...typed, current].map(shQuote).join(' ')}); COMP_CWORD=${typed.length + 1}; _acmectl; printf '%s\\n' "\${COMPREPLY[@]}"`], env),
    // zsh: the function as compinit loads it from $fpath, with compadd and _files recording what it offers.
    zsh: (typed, current, env) =>
      run('zsh', ['-f', '-c', `fpath=(${shQuote(scripts.zshDir!)} $fpath); autoload -U compinit; compinit -u -D; [[ \${_comps[acmectl]} == _acmectl ]] || { print -u2 not registered; exit 3; }; compadd() { [[ $1 == -- ]] && shift; local w; for w in "$@"; do [[ $w == \${PREFIX}* ]] && print -r -- $w; done; true; }; _files() { print -r -- '<files>'; }; PREFIX=${shQuote(current)}; words=(acmectl ${[...typed, current].map(shQuote).join(' ')}); CURRENT=${typed.length + 2}; _acmectl; true`], env),
    fish: (typed, current, env) =>
      run('fish', ['--no-config', '-c', `source ${shQuote(scripts.fish!)}; complete -C ${shQuote(['acmectl', ...typed, current].join(' '))}`], env).map((line) => line.split('\t')[0]!),
  };
}

const STORED = 'stored.example.test';
const ELSEWHERE = 'elsewhere.example.test';

/** A SQLite store holding one certificate named `name`, written as issue writes it. */
async function seedStore(path: string, name: string): Promise<void> {
  const now = Date.now();
  const notBefore = new Date(now - 86_400_000).toISOString();
  const notAfter = new Date(now + 89 * 86_400_000).toISOString();
  const leaf = leafWith({ dns: [name], issuer: root('Completion Test CA'), notBefore: new Date(notBefore), notAfter: new Date(notAfter) });
  const store = await openStore(`sqlite:${path}`);
  try {
    await store.put(
      certificateKey(name),
      encodeRecord({
        schema: 1,
        name,
        identifiers: [{ type: 'dns', value: name }],
        settings: renewalSettings({ server: 'https://127.0.0.1:9/directory' }),
        current: { version: 1, serial: 'AA01', notBefore, notAfter, issuer: 'Completion Test CA', issuedAt: notBefore, certPem: leaf.pem, chainPem: '', keyPem: leaf.keyPem!, fence: '1' },
        history: [],
        createdAt: notBefore,
        updatedAt: notBefore,
      }),
    );
  } finally {
    await store.close();
  }
}

describe('shell completions loaded into real shells', () => {
  let shells: Record<'bash' | 'zsh' | 'fish', Completer>;
  /** ACMECTL_HOME of a store holding STORED; a SQLite file holding ELSEWHERE; the temp dir. */
  let storeHome: string;
  let elsewhere: string;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('acmectl-completions-');
    // The scripts run `acmectl` (the word typed) for the stored names: the built CLI, found on PATH.
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'acmectl'), `#!/bin/sh\nexec ${shQuote(process.execPath)} ${shQuote(BIN)} "$@"\n`);
    chmodSync(join(dir, 'bin', 'acmectl'), 0o755);
    storeHome = join(dir, 'store-home');
    elsewhere = join(dir, 'elsewhere', 'other.db');
    await seedStore(join(storeHome, 'acmectl.db'), STORED);
    await seedStore(elsewhere, ELSEWHERE);
    const script = (shell: string): string => execFileSync(process.execPath, [BIN, 'completion', shell], { encoding: 'utf8', cwd: REPO_ROOT });
    mkdirSync(join(dir, 'zsh'));
    writeFileSync(join(dir, 'acmectl.bash'), script('bash'));
    writeFileSync(join(dir, 'zsh', '_acmectl'), script('zsh'));
    writeFileSync(join(dir, 'acmectl.fish'), script('fish'));
    shells = completers({ home: dir, bin: join(dir, 'bin'), bash: join(dir, 'acmectl.bash'), zshDir: join(dir, 'zsh'), fish: join(dir, 'acmectl.fish') });
  });

  const paths = [...tree.paths].filter(([, p]) => p.subcommands.length > 0 || p.argumentChoices.length > 0);
  // each option with fixed values, typed after an argument of a command that takes it
  const choiceOptions = [...tree.values].flatMap(([option, v]) => {
    if (v.kind !== 'choice') return [];
    const owner = tree.globalOptions.includes(option) ? 'list' : [...tree.paths].find(([, p]) => p.options.includes(option))![0];
    return [[option, owner, v.values] as const];
  });
  // the commands that take stored certificate names (an argument called name)
  const namePaths = [...tree.paths].filter(([, p]) => p.certificateNames !== null).map(([path]) => path);
  it('knows which commands take stored certificate names', () => {
    expect([...namePaths].sort()).toEqual(['delete', 'doctor', 'export', 'renew', 'revoke', 'show']);
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
      it.each(namePaths)('offers the stored certificate names to %s', (path) => {
        expect(shells[shell](path.split(' '), '', { ACMECTL_HOME: storeHome })).toContain(STORED);
      });
      it('completes a prefix to the stored name', () => {
        expect(shells[shell](['show'], 'sto', { ACMECTL_HOME: storeHome })).toEqual([STORED]);
        expect(shells[shell](['renew'], 'sto', { ACMECTL_HOME: storeHome })).toEqual([STORED]);
      });
      it('offers another name to renew, none after the one name show takes, none where a new name is typed', () => {
        const names = (typed: string[]): string[] => shells[shell](typed, '', { ACMECTL_HOME: storeHome }).filter((w) => !w.startsWith('-'));
        expect(names(['renew', STORED])).toContain(STORED);
        expect(names(['show', STORED])).toEqual([]);
        expect(names(['issue'])).toEqual([]);
        expect(names(['issue', '--name'])).toEqual([]);
      });
      it('reads the store a --store earlier on the line names', () => {
        const offered = shells[shell](['--store', `sqlite:${elsewhere}`, 'show'], '', { ACMECTL_HOME: storeHome });
        expect(offered).toContain(ELSEWHERE);
        expect(offered).not.toContain(STORED);
        expect(shells[shell](['show', '--store', `sqlite:${elsewhere}`], '', { ACMECTL_HOME: storeHome })).toContain(ELSEWHERE);
      });
      it('offers no name, and creates nothing, where there is no store', () => {
        const home = join(dir, `never-${shell}`);
        expect(shells[shell](['show'], '', { ACMECTL_HOME: home }).filter((w) => !w.startsWith('-'))).toEqual([]);
        expect(shells[shell](['--store', `sqlite:${join(home, 'x.db')}`, 'renew'], '', { ACMECTL_HOME: storeHome }).filter((w) => !w.startsWith('-'))).toEqual([]);
        expect(existsSync(home)).toBe(false);
        // A store that cannot be read (not a database) gives nothing either, and no error in the completion.
        writeFileSync(join(dir, `garbage-${shell}.db`), 'not a database\n');
        expect(shells[shell](['--store', `sqlite:${join(dir, `garbage-${shell}.db`)}`, 'show'], '').filter((w) => !w.startsWith('-'))).toEqual([]);
        expect(readdirSync(dir).filter((f) => f.startsWith(`garbage-${shell}`))).toEqual([`garbage-${shell}.db`]);
        // A --config that cannot be read: nothing (it is passed on: the store of ACMECTL_HOME would have answered).
        expect(shells[shell](['--config', join(dir, 'missing.json'), 'show'], '', { ACMECTL_HOME: storeHome }).filter((w) => !w.startsWith('-'))).toEqual([]);
      });
    });
  }
});
