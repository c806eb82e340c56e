import { describe, expect, it } from 'vitest';
import type { CommandInput } from './command.js';
import { buildProgram } from './program.js';

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
});
