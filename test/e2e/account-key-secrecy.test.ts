import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { listAccounts } from '../../src/core/accounts.js';
import { openStore } from '../../src/store/open.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The account private key signs every request to the CA and is kept in the store only: no command prints it,
 * whatever the flags (-v, --json), no hook gets it, and no file acmectl writes holds it. The whole life of an
 * account runs here (register, issue, renew, export, show, a failed validation, key rollover, contact update,
 * revoke, deactivate), and every key the account ever had is looked for in every form it could leak in.
 */
let pebble: PebbleHandle;
beforeAll(async () => {
  pebble = await startPebble();
});
afterAll(async () => pebble?.stop());

/** The ways a private key can be written: PEM (PKCS#8 and the traditional form), each base64 line, the JWK's private parts. */
function leakForms(keyPem: string): string[] {
  const key = createPrivateKey(keyPem);
  const pems = [keyPem, key.export({ type: 'pkcs8', format: 'pem' }).toString()];
  if (key.asymmetricKeyType === 'ec') pems.push(key.export({ type: 'sec1', format: 'pem' }).toString());
  if (key.asymmetricKeyType === 'rsa') pems.push(key.export({ type: 'pkcs1', format: 'pem' }).toString());
  const forms = new Set<string>();
  for (const pem of pems) {
    const lines = pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
    forms.add(lines.join(''));
    for (const line of lines) if (line.length >= 16) forms.add(line);
  }
  const jwk = key.export({ format: 'jwk' });
  for (const field of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) {
    const value = jwk[field];
    if (value === undefined) continue;
    const bytes = Buffer.from(value, 'base64url');
    forms.add(value);
    forms.add(bytes.toString('base64').replace(/=+$/, ''));
    forms.add(bytes.toString('hex'));
  }
  return [...forms];
}

/** Every account key the store holds now, pending rollover keys included. */
async function accountKeys(home: string): Promise<string[]> {
  const store = await openStore(`sqlite:${join(home, 'acmectl.db')}`);
  try {
    return (await listAccounts(store)).flatMap((account) => [account.keyPem, ...(account.pendingKeyPem ? [account.pendingKeyPem] : [])]);
  } finally {
    await store.close();
  }
}

/** The text of every file under `dir` except the store itself (the one place the key belongs). */
function filesOutsideStore(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((path) => !/^acmectl\.db(-wal|-shm|-journal)?$/.test(path))
    .map((path) => join(dir, path))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, text: readFileSync(path, 'latin1') }));
}

describe('the account private key', () => {
  it('appears in no output (-v or --json), no hook environment and no written file, across the life of an account', { timeout: 300_000 }, async () => {
    const home = tempDir('account-key');
    const outputs: { command: string; text: string }[] = [];
    const keys = new Set<string>();
    const run = async (args: string[], expected = 0): Promise<void> => {
      const result = await runCli([...args, ...pebbleArgs(pebble)], { home });
      expect(result.code, `acmectl ${args.join(' ')}\n${result.stderr}`).toBe(expected);
      outputs.push({ command: args.join(' '), text: result.stdout + result.stderr });
      for (const key of await accountKeys(home)) keys.add(key);
    };
    const both = async (args: string[], expected = 0): Promise<void> => {
      await run([...args, '-v'], expected);
      await run([...args, '--json'], expected);
    };
    const standalone = ['--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1'];
    const dumpEnv = (file: string) => `env > ${join(home, `${file}-$$.env`)}`;
    const hooks = ['--pre-hook', dumpEnv('pre'), '--post-hook', dumpEnv('post'), '--deploy-hook', dumpEnv('deploy')];

    await both(['account', 'register', '--email', 'first@example.com', '--agree-tos']);
    await run(['issue', 'one.example.test', ...standalone, '--email', 'first@example.com', ...hooks, '-v']);
    await run(['issue', 'two.example.test', ...standalone, '--email', 'first@example.com', ...hooks, '--json']);
    await both(['account', 'list']);
    await both(['account', 'show', '--email', 'first@example.com']);
    await both(['list']);
    await both(['show', 'one.example.test']);
    await both(['renew', '--force', '--no-random-sleep']);
    await both(['export', 'one.example.test', '--out', join(home, 'exported'), '--format', 'combined']);
    await both(['config', 'show']);
    await both(['ca']);
    // A validation that fails: Pebble knocks on its own port, acmectl listens elsewhere.
    const elsewhere = String(pebble.httpPort === 65000 ? 65001 : 65000);
    await both(['issue', 'refused.example.test', '--http-port', elsewhere, '--http-address', '127.0.0.1', '--email', 'first@example.com'], 1);
    await both(['account', 'rollover', '--email', 'first@example.com']);
    await run(['account', 'update', '--current-email', 'first@example.com', '--email', 'second@example.com', '-v']);
    await run(['account', 'update', '--current-email', 'second@example.com', '--email', 'third@example.com', '--json']);
    await run(['revoke', 'one.example.test', '-v']);
    await run(['revoke', 'two.example.test', '--json']);
    await run(['account', 'deactivate', '--email', 'third@example.com', '--yes', '-v']);

    // The first key, and the two that replaced it.
    expect(keys.size).toBe(3);
    const hookEnvironments = readdirSync(home).filter((name) => name.endsWith('.env'));
    expect(hookEnvironments.filter((name) => name.startsWith('deploy-')).length).toBeGreaterThanOrEqual(4);
    expect(hookEnvironments.some((name) => name.startsWith('pre-')) && hookEnvironments.some((name) => name.startsWith('post-'))).toBe(true);
    const places = [...outputs.map(({ command, text }) => ({ where: `the output of acmectl ${command}`, text })), ...filesOutsideStore(home).map(({ path, text }) => ({ where: path, text }))];
    for (const key of keys) {
      const forms = leakForms(key);
      for (const { where, text } of places) {
        const leaked = forms.filter((form) => text.includes(form));
        expect(leaked, `the account key appears in ${where}`).toEqual([]);
      }
    }
  });
});
