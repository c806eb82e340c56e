import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli.js';
import { describeFailure, killRunningCommands, runCommand } from './run-command.js';

/**
 * README's install path, for real: `npm pack`, then `npm install -g` of the tarball into a temporary prefix.
 * better-sqlite3's prebuilt binary cannot be downloaded here, so the install compiles it (a minute or two).
 */

const INSTALL_TIMEOUT_MS = 540_000; // below the hook's 600 s, so the command is killed with its output shown
const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let tmp: string;
let prefix: string;
let home: string;

/**
 * The environment of a user's shell: none of the npm_* variables `npm test` exports (npm_config_prefix and
 * friends would otherwise steer the nested npm).
 */
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
  return { ...env, ...extra };
}

function acmectl(args: string[], env: Record<string, string> = {}) {
  return runCommand(join(prefix, 'bin/acmectl'), args, {
    cwd: home,
    // ACMECTL_* from the developer's shell must not leak in: only what the test sets.
    env: { PATH: process.env.PATH, HOME: home, ACMECTL_HOME: home, NO_COLOR: '1', ...env },
    timeoutMs: 60_000,
  });
}

beforeAll(async () => {
  if (!existsSync(join(REPO_ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  tmp = mkdtempSync('/tmp/acmectl-install-');
  prefix = join(tmp, 'prefix');
  home = join(tmp, 'home');
  mkdirSync(home);
  // --ignore-scripts: pack the dist/ already built rather than rebuilding it under the other test files' feet.
  const pack = await runCommand('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: REPO_ROOT, env: shellEnv(), timeoutMs: 60_000 });
  if (pack.code !== 0) throw new Error(describeFailure('npm pack', pack));
  const [{ filename }] = JSON.parse(pack.stdout) as [{ filename: string }];
  // The default npm cache is used on purpose: the dependencies are downloaded once, not on every run.
  const install = await runCommand('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(tmp, filename)], {
    cwd: tmp,
    env: shellEnv(),
    timeoutMs: INSTALL_TIMEOUT_MS,
  });
  if (install.code !== 0) throw new Error(describeFailure('npm install -g', install));
}, 600_000);

afterAll(() => {
  killRunningCommands();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('npm install -g of the packed tarball', () => {
  it.each([['--version'], ['-V']])('acmectl %s prints the version from package.json', async (flag) => {
    const result = await acmectl([flag]);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('acmectl --help lists the commands', async () => {
    const result = await acmectl(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: acmectl /);
    for (const command of ['issue', 'renew', 'list', 'completion']) expect(result.stdout).toContain(`\n  ${command}`);
  });

  it("opens a SQLite store with the installed copy's native better-sqlite3", async () => {
    const database = join(home, 'acmectl.db');
    // store copy creates the database (list alone does not open a store that does not exist yet)
    const copy = await acmectl(['store', 'copy', '--from', 'memory:', '--to', `sqlite:${database}`]);
    expect(copy.code, describeFailure('acmectl store copy', copy)).toBe(0);
    expect(readFileSync(database).subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
    const list = await acmectl(['list', '--json']);
    expect(list.code, describeFailure('acmectl list', list)).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({ ok: true, certificates: [] });
  });

  it('man finds the installed man page (man-db derives <prefix>/share/man from PATH)', async () => {
    const env = shellEnv({ PATH: `${join(prefix, 'bin')}:${process.env.PATH}` });
    delete env.MANPATH; // an explicit MANPATH would replace the search that derives paths from PATH
    const result = await runCommand('man', ['-w', 'acmectl'], { env, timeoutMs: 30_000 });
    expect(result.code, describeFailure('man -w acmectl', result)).toBe(0);
    // npm links <prefix>/share/man/man1/acmectl.1 to the package's man/acmectl.1; man -w prints the link's target
    expect(result.stdout.trim()).toBe(realpathSync(join(prefix, 'share/man/man1/acmectl.1')));
    expect(result.stdout.trim()).toBe(join(prefix, 'lib/node_modules/acmectl/man/acmectl.1'));
  });
});
