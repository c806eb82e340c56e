/**
 * Every secret acmectl is given (the EAB HMAC key, the store password, the Vault token, the PKCS#12 password)
 * is absent from everything every command prints, with -v and with --json. The commands come from the program
 * tree itself (buildProgram): a command added later without a row here fails the first test. Each runs against
 * a real Pebble that requires EAB and a network store that requires its secret (a Redis with a password, the
 * Vault stand-in with a token), with all four secrets in the environment, as on a server where they are set once.
 * test/e2e/account-key-secrecy.test.ts does the same for account keys, test/e2e/renew-hooks.test.ts for hooks.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, PEBBLE_EAB_KEYS, startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { buildProgram } from '../../src/cli/program.js';
import { visibleSubcommands } from '../../src/cli/visible-commands.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { startRedis } from '../support/redis-server.js';
import type { RedisServerHandle } from '../support/redis-server.js';
import { startServe } from '../support/serve-process.js';
import { tempDir } from '../support/temp-dir.js';
import { startVaultStandin } from '../support/vault-standin.js';
import type { VaultStandin } from '../support/vault-standin.js';

const STORE_PASSWORD = `store-pw-${randomBytes(12).toString('hex')}`;
const VAULT_TOKEN = `hvs.${randomBytes(18).toString('base64url')}`;
const PKCS12_PASSWORD = `p12-${randomBytes(12).toString('hex')}`;
const EAB_KID = 'kid-1';
const EAB_HMAC_KEY = PEBBLE_EAB_KEYS[EAB_KID];

const SECRET_ENV = {
  ACMECTL_EAB_KID: EAB_KID,
  ACMECTL_EAB_HMAC_KEY: EAB_HMAC_KEY,
  ACMECTL_STORE_PASSWORD: STORE_PASSWORD,
  ACMECTL_STORE_TOKEN: VAULT_TOKEN,
  ACMECTL_PKCS12_PASSWORD: PKCS12_PASSWORD,
};

/** Each secret as it was given, and the forms the key's bytes could be printed in. */
function secretForms(): { secret: string; form: string }[] {
  const keyBytes = Buffer.from(EAB_HMAC_KEY, 'base64url');
  return [
    { secret: 'the store password', form: STORE_PASSWORD },
    { secret: 'the Vault token', form: VAULT_TOKEN },
    { secret: 'the PKCS#12 password', form: PKCS12_PASSWORD },
    { secret: 'the EAB HMAC key', form: EAB_HMAC_KEY },
    { secret: 'the EAB HMAC key (base64)', form: keyBytes.toString('base64').replace(/=+$/, '') },
    { secret: 'the EAB HMAC key (hex)', form: keyBytes.toString('hex') },
  ];
}

const NAME = 'secrets.example.test';

interface Row {
  /** The command's path in the tree, e.g. "account register". */
  command: string;
  /** Its arguments after the path, in a given home. */
  args: (context: RowContext) => string[];
  /** The exit codes of the -v run and of the --json run that follows it. */
  codes: [number, number];
}

interface RowContext {
  home: string;
  httpPort: number;
  mode: 'v' | 'json';
}

/**
 * Every command, in an order that lets each run for real: the account before the certificate, revoke and
 * deactivate last. Each row runs twice (-v, then --json); where the second run cannot do the same again its
 * code says so.
 */
const ROWS: Row[] = [
  { command: 'completion', args: () => ['bash'], codes: [0, 0] },
  { command: 'config check', args: () => [], codes: [0, 0] },
  { command: 'config show', args: () => [], codes: [0, 0] },
  { command: 'ca', args: () => [], codes: [0, 0] },
  { command: 'account register', args: () => ['--email', 'ops@example.com', '--agree-tos'], codes: [0, 0] },
  { command: 'account list', args: () => [], codes: [0, 0] },
  { command: 'account show', args: () => ['--email', 'ops@example.com'], codes: [0, 0] },
  { command: 'issue', args: (c) => [NAME, '--http-port', String(c.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--format', 'pkcs12', '--force'], codes: [0, 0] },
  { command: 'renew', args: () => ['--force', '--no-random-sleep'], codes: [0, 0] },
  { command: 'list', args: () => [], codes: [0, 0] },
  { command: 'show', args: () => [NAME], codes: [0, 0] },
  { command: 'export', args: (c) => [NAME, '--out', join(c.home, `exported-${c.mode}`), '--format', 'pkcs12'], codes: [0, 0] },
  { command: 'doctor', args: (c) => ['--http-port', String(c.httpPort), '--http-address', '127.0.0.1'], codes: [0, 0] },
  { command: 'store copy', args: (c) => ['--to', `sqlite:${join(c.home, `copy-${c.mode}.db`)}`], codes: [0, 0] },
  { command: 'import certbot', args: (c) => [join(c.home, 'no-letsencrypt'), '--dry-run'], codes: [2, 2] },
  { command: 'schedule install', args: (c) => ['--cron', '--root', join(c.home, 'root')], codes: [0, 1] },
  { command: 'schedule status', args: (c) => ['--root', join(c.home, 'root')], codes: [0, 0] },
  { command: 'schedule remove', args: (c) => ['--root', join(c.home, 'root')], codes: [0, 0] },
  { command: 'serve', args: () => [], codes: [0, 0] },
  { command: 'account update', args: () => ['--current-email', 'ops@example.com', '--email', 'ops@example.com'], codes: [0, 0] },
  { command: 'account rollover', args: () => ['--email', 'ops@example.com'], codes: [0, 0] },
  { command: 'revoke', args: () => [NAME], codes: [0, 2] },
  { command: 'delete', args: () => [NAME], codes: [0, 2] },
  { command: 'account deactivate', args: () => ['--email', 'ops@example.com', '--yes'], codes: [0, 0] },
];

/** The paths of the commands that run something (the leaves of the tree), e.g. "account register". */
function commandPaths(command: Command, prefix: string[] = []): string[] {
  return visibleSubcommands(command).flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return sub.commands.length > 0 ? commandPaths(sub, path) : [path.join(' ')];
  });
}

let pebble: PebbleHandle;
let redis: RedisServerHandle;
let vault: VaultStandin;
beforeAll(async () => {
  [pebble, redis, vault] = await Promise.all([startPebble({ eab: true }), startRedis({ password: STORE_PASSWORD }), startVaultStandin({ token: VAULT_TOKEN })]);
});
afterAll(async () => {
  await Promise.all([pebble?.stop(), redis?.dispose(), vault?.stop()]);
});

describe('secrets in the output of every command', () => {
  it('the table has a row for every command of the program, and no other', () => {
    expect(ROWS.map((row) => row.command).sort()).toEqual(commandPaths(buildProgram(async () => {})).sort());
  });

  it.each([
    ['a Redis store with a password', (): string => `${redis.url}?prefix=secrets/`],
    ['the Vault stand-in with a token', (): string => `${vault.url}/secret/acmectl/`],
  ])('none appears with -v or --json, over %s', { timeout: 240_000 }, async (_store, storeUrl) => {
    const home = tempDir('secrets');
    const httpPort = pebble.httpPort;
    const global = ['--store', storeUrl(), ...pebbleArgs(pebble)];
    const outputs: { where: string; text: string }[] = [];
    for (const row of ROWS) {
      for (const mode of ['v', 'json'] as const) {
        const flag = mode === 'v' ? '-v' : '--json';
        const args = [...row.command.split(' '), ...row.args({ home, httpPort, mode }), ...global, flag];
        const where = `acmectl ${args.join(' ')}`;
        if (row.command === 'serve') {
          const serve = await startServe([...global, '--http-port', String(await freePort()), '--http-address', '127.0.0.1', flag], { HOME: home, ACMECTL_HOME: home, ...SECRET_ENV });
          expect(await serve.stop(), where).toBe(row.codes[mode === 'v' ? 0 : 1]);
          outputs.push({ where, text: serve.log() });
          continue;
        }
        const result = await runCli(args, { home, env: SECRET_ENV });
        expect(result.code, `${where}\n${result.stdout}${result.stderr}`).toBe(row.codes[mode === 'v' ? 0 : 1]);
        outputs.push({ where, text: result.stdout + result.stderr });
      }
    }
    for (const { secret, form } of secretForms()) {
      const leaks = outputs.filter(({ text }) => text.includes(form)).map(({ where }) => where);
      expect(leaks, `${secret} appears in the output of`).toEqual([]);
    }
  });
});
