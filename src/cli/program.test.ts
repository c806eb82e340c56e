import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CommandInput } from './command.js';
import { buildProgram, VERSION } from './program.js';

type Parsed = Omit<CommandInput, 'reporter' | 'signal'> & { command: string };

/** Parses argv with the real command tree and returns what the command would receive. */
async function parse(argv: string[]): Promise<Parsed> {
  let parsed: Parsed | undefined;
  const program = buildProgram(async (load, input) => {
    const loaded = await load();
    parsed = { ...input, command: (loaded as { name?: string }).name ?? '' };
  });
  const silence = (command: typeof program): void => {
    command.configureOutput({ writeErr: () => {}, writeOut: () => {} });
    command.commands.forEach(silence);
  };
  silence(program);
  await program.parseAsync(argv, { from: 'user' });
  if (!parsed) throw new Error('no command ran');
  return parsed;
}

describe('argv → command input', () => {
  it.each([
    [['issue', 'example.com'], 'issue', ['example.com'], {}, {}],
    [['issue', 'a.example.com', 'b.example.com', '--webroot', '/var/www', '--key-type', 'rsa2048'], 'issue', ['a.example.com', 'b.example.com'], { webroot: '/var/www', keyType: 'rsa2048' }, {}],
    [['--server', 'letsencrypt-staging', 'issue', 'example.com', '--force', '--http-port', '8080'], 'issue', ['example.com'], { force: true, httpPort: '8080' }, { server: 'letsencrypt-staging' }],
    [['issue', 'example.com', '--json', '-q', '--store', 'memory:'], 'issue', ['example.com'], {}, { json: true, quiet: true, store: 'memory:' }],
    [['issue', 'example.com', '--eab-kid', 'k', '--eab-hmac-key', 'h', '--agree-tos', '--email', 'a@b.example'], 'issue', ['example.com'], { eabKid: 'k', eabHmacKey: 'h', agreeTos: true, email: 'a@b.example' }, {}],
    [['ls', '--expiring', '30'], 'list', [], { expiring: '30' }, {}],
    [['show', 'example.com', '--pem'], 'show', ['example.com'], { pem: true }, {}],
    [['account', 'register', '--email', 'a@b.example', '--agree-tos'], 'accountRegister', [], { email: 'a@b.example', agreeTos: true }, {}],
    [['--no-color', 'account', 'list'], 'accountList', [], {}, { color: false }],
    [['account', 'show', '--email', 'a@b.example', '--json'], 'accountShow', [], { email: 'a@b.example' }, { json: true }],
    [['account', 'update', '--email', 'new@b.example', '--current-email', 'a@b.example'], 'accountUpdate', [], { email: 'new@b.example', currentEmail: 'a@b.example' }, {}],
    [['account', 'update', '--no-email'], 'accountUpdate', [], { email: false }, {}],
    [['--server', 'letsencrypt-staging', 'account', 'rollover'], 'accountRollover', [], {}, { server: 'letsencrypt-staging' }],
    [['account', 'deactivate', '--yes'], 'accountDeactivate', [], { yes: true }, {}],
  ])('%j', async (argv, command, args, options, global) => {
    const parsed = await parse(argv);
    expect(parsed.command).toBe(command);
    expect(parsed.args).toEqual(args);
    expect(parsed.options).toMatchObject(options);
    expect(parsed.global).toMatchObject(global);
  });

  it.each([[['issue']], [['issue', 'x', '--key-type', 'dsa']], [['bogus']], [['issue', 'x', '--unknown']], [['show']]])('refuses %j', async (argv) => {
    await expect(parse(argv)).rejects.toMatchObject({ exitCode: 1 }); // main() turns every parse error into exit 2
  });

  it('export NAME --version N is export\'s --version, not the program\'s', async () => {
    const parsed = await parse(['export', 'example.com', '--version', '3']);
    expect(parsed.command).toBe('exportCommand');
    expect(parsed.options).toMatchObject({ version: '3' });
  });
});

describe('the hidden command of the completion scripts', () => {
  it('runs with the store-choosing global options, and is not in --help', async () => {
    const parsed = await parse(['__certificate-names', '--store', 'sqlite:/x.db', '--config', '/c.json']);
    expect(parsed.command).toBe('certificateNames');
    expect(parsed.global).toMatchObject({ store: 'sqlite:/x.db', config: '/c.json' });
    const program = buildProgram(async () => {});
    expect(program.helpInformation()).toContain('completion');
    expect(program.helpInformation()).not.toContain('__certificate-names');
  });
});

describe('version', () => {
  it.each([['-V'], ['--version']])('%s prints VERSION and exits 0', async (flag) => {
    let printed = '';
    const program = buildProgram(async () => {}).configureOutput({ writeOut: (text) => (printed += text) });
    await expect(program.parseAsync([flag], { from: 'user' })).rejects.toMatchObject({ code: 'commander.version', exitCode: 0 });
    expect(printed).toBe(`${VERSION}\n`);
  });

  // VERSION is a constant so that start-up never reads package.json; this keeps the two from drifting.
  it("VERSION is package.json's version", () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
