import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { CaClient } from '../../src/acme/client.js';
import { AcmeProblemError } from '../../src/acme/problem.js';
import { listAccounts } from '../../src/core/accounts.js';
import type { AccountRecord } from '../../src/core/accounts.js';
import { openStore } from '../../src/store/open.js';
import { BIN, cliEnv, pebbleArgs, runCli } from '../support/cli.js';
import { startMisbehavingCa } from '../support/misbehaving-ca-standin.js';
import { storeRevisions } from '../support/store-snapshot.js';
import { tempDir } from '../support/temp-dir.js';

let pebble: PebbleHandle;
beforeAll(async () => {
  pebble = await startPebble();
});
afterAll(async () => pebble?.stop());

const newHome = () => tempDir('account');
const cli = (home: string, args: string[]) => runCli([...args, ...pebbleArgs(pebble)], { home });
const register = (home: string, email: string) => cli(home, ['account', 'register', '--email', email, '--agree-tos']);
const issue = (home: string, name: string, extra: string[] = []) =>
  cli(home, ['issue', name, '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', ...extra]);
const renew = (home: string, name: string) => cli(home, ['renew', name, '--force', '--no-random-sleep']);

interface Shown {
  url: string;
  email: string | null;
  status: string | null;
  contact: string[] | null;
  caProblem?: { type: string; detail?: string };
  storeStatus: string;
  keyType: string;
  keyThumbprint: string;
}
async function show(home: string, extra: string[] = []): Promise<Shown> {
  const result = await cli(home, ['account', 'show', '--json', ...extra]);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { account: Shown }).account;
}

/** The accounts as stored (keys included): what the test needs to sign requests of its own. */
async function storedAccounts(home: string): Promise<AccountRecord[]> {
  const store = await openStore(`sqlite:${join(home, 'acmectl.db')}`);
  try {
    return await listAccounts(store);
  } finally {
    await store.close();
  }
}

/** A request of our own to the account URL (POST-as-GET), signed with `keyPem`: resolves to the CA's answer. */
async function askCaWith(keyPem: string, accountUrl: string): Promise<string> {
  const ca = await CaClient.connect({ directoryUrl: pebble.directoryUrl, accountKeyPem: keyPem, accountUrl, caBundlePem: readFileSync(pebble.caBundlePath, 'utf8'), requestTimeoutMs: 10_000 });
  return (await ca.getAccount()).status;
}

/** The base64 body of a PEM key: none of it may ever be printed. */
const keyBody = (pem: string) => pem.split('\n').filter((line) => line && !line.startsWith('-----')).join('');

describe('account show', () => {
  it("shows the account with its status as the CA reports it now, and never the key", async () => {
    const home = newHome();
    expect((await register(home, 'ops@example.com')).code).toBe(0);
    const shown = await show(home);
    expect(shown).toMatchObject({ email: 'ops@example.com', status: 'valid', contact: ['mailto:ops@example.com'], storeStatus: 'valid', keyType: 'EC P-256' });
    expect(shown.url).toMatch(/^https:\/\/localhost:\d+\/my-account\//);

    // Without --ca-bundle: the bundle stored with the account is trusted for its CA.
    const human = await runCli(['account', 'show', '--email', 'ops@example.com', '--server', pebble.directoryUrl], { home });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^status +valid \(as the CA reports it now\)$/m);
    expect(human.stdout).toMatch(/^key +EC P-256, thumbprint \S+$/m);
    const [account] = await storedAccounts(home);
    for (const output of [human.stdout + human.stderr, JSON.stringify(shown)]) {
      expect(output).not.toContain('PRIVATE KEY');
      expect(output).not.toContain(keyBody(account!.keyPem).slice(0, 40));
    }
  });

  it('says there is no account, and how to get one (exit 2)', async () => {
    const home = newHome();
    const result = await cli(home, ['account', 'show']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/error: there is no ACME account at https:\/\/localhost:\d+\/dir in the store/);
    expect(result.stderr).toMatch(/hint: acmectl account list shows the accounts .*acmectl account register/);
  });
});

describe('account update', () => {
  it('changes the contact at the CA; a certificate issued with the old email still renews', async () => {
    const home = newHome();
    expect((await register(home, 'old@example.com')).code).toBe(0);
    expect((await issue(home, 'update.example.test', ['--email', 'old@example.com'])).code).toBe(0);

    const updated = await cli(home, ['account', 'update', '--current-email', 'old@example.com', '--email', 'new@example.com']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toContain('contact old@example.com -> new@example.com');
    expect(await show(home, ['--email', 'new@example.com'])).toMatchObject({ email: 'new@example.com', status: 'valid', contact: ['mailto:new@example.com'] });
    expect((await storedAccounts(home)).map((a) => a.email)).toEqual(['new@example.com']);

    // The certificate's stored settings still name old@example.com.
    const renewed = await renew(home, 'update.example.test');
    expect(renewed.stderr).not.toMatch(/error/);
    expect(renewed.stdout).toMatch(/renewed update\.example\.test: serial /);
    expect(renewed.code).toBe(0);
  });

  it('removes the contact with --no-email', async () => {
    const home = newHome();
    expect((await register(home, 'ops@example.com')).code).toBe(0);
    const updated = await cli(home, ['account', 'update', '--no-email']);
    expect(updated.code).toBe(0);
    expect(updated.stderr).toMatch(/warning: the account has no contact now/);
    expect(await show(home)).toMatchObject({ email: null, status: 'valid', contact: [] });
  });

  it('needs the new contact on the command line (exit 2)', async () => {
    const home = newHome();
    const result = await cli(home, ['account', 'update']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--email NEW, or --no-email/);
  });
});

describe('account rollover', () => {
  it('switches the account to a new key: the CA refuses the old one, and issue works with the new stored key', async () => {
    const home = newHome();
    expect((await register(home, 'ops@example.com')).code).toBe(0);
    const [before] = await storedAccounts(home);
    const shownBefore = await show(home);

    const rolled = await cli(home, ['account', 'rollover']);
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(rolled.stdout).toMatch(/now uses a new key \(EC P-256, thumbprint \S+\); the CA no longer accepts the old one/);
    expect(rolled.stdout + rolled.stderr).not.toContain('PRIVATE KEY');

    const [after] = await storedAccounts(home);
    expect(after!.url).toBe(before!.url);
    expect(after!.keyPem).not.toBe(before!.keyPem);
    expect(after!.pendingKeyPem).toBeUndefined();
    expect((await show(home)).keyThumbprint).not.toBe(shownBefore.keyThumbprint);

    // The CA's own word: a request signed with the old key is refused, one signed with the new key answered.
    const refused = await askCaWith(before!.keyPem, before!.url).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(AcmeProblemError);
    expect(await askCaWith(after!.keyPem, after!.url)).toBe('valid');

    const issued = await issue(home, 'rollover.example.test');
    expect(issued.stderr).toContain(`using account ${before!.url}`);
    expect(issued.code).toBe(0);
  });

  it('refuses a CA without keyChange in its directory (exit 1) before anything is changed', async () => {
    const home = newHome();
    const ca = await startMisbehavingCa({ newOrderProblem: { type: 'urn:ietf:params:acme:error:serverInternal' } });
    try {
      expect((await runCli(['account', 'register', '--server', ca.directoryUrl, '--email', 'ops@example.com', '--agree-tos'], { home })).code).toBe(0);
      const revisions = await storeRevisions(join(home, 'acmectl.db'));
      const sent = ca.requests.length;
      const result = await runCli(['account', 'rollover', '--server', ca.directoryUrl], { home });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`error: ${ca.directoryUrl} does not offer account key changes (no keyChange in its directory); nothing was changed`);
      expect(ca.requests.slice(sent)).toEqual(['GET /dir']);
      expect(await storeRevisions(join(home, 'acmectl.db'))).toEqual(revisions);
    } finally {
      await ca.stop();
    }
  });
});

/**
 * Runs the built CLI on a pseudo-terminal (util-linux `script`, as test/e2e/terminal.test.ts does), typing
 * `answer` once the question is on the screen; resolves with the exit code and what the terminal showed.
 */
function onTerminal(home: string, args: string[], answer: string): Promise<{ code: number | null; screen: string }> {
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const child = spawn('script', ['-qefc', [process.execPath, BIN, ...args].map(quote).join(' '), '/dev/null'], { env: cliEnv({ home }), cwd: home, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let answered = false;
  const watch = (chunk: Buffer): void => {
    screen += chunk.toString();
    if (!answered && screen.includes('[y/N]')) {
      answered = true;
      child.stdin.write(answer);
    }
  };
  child.stdout.on('data', watch);
  child.stderr.on('data', watch);
  const deadline = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => child.on('close', (code) => (clearTimeout(deadline), resolve({ code, screen }))));
}

describe('account deactivate', () => {
  it('on a terminal, asks first: "n" changes nothing (exit 1), "y" deactivates', async () => {
    const home = newHome();
    expect((await register(home, 'ops@example.com')).code).toBe(0);
    const revisions = await storeRevisions(join(home, 'acmectl.db'));
    const declined = await onTerminal(home, ['account', 'deactivate', ...pebbleArgs(pebble)], 'n\r');
    expect(declined.screen).toMatch(/Deactivate the ACME account \S+ \(ops@example\.com\) at \S+\? The CA will refuse it for good.* \[y\/N\]/);
    expect(declined.screen).toContain('was not deactivated');
    expect(declined.code).toBe(1);
    expect(await storeRevisions(join(home, 'acmectl.db'))).toEqual(revisions);

    const confirmed = await onTerminal(home, ['account', 'deactivate', ...pebbleArgs(pebble)], 'y\r');
    expect(confirmed.screen).toMatch(/deactivated at \S+ \(the CA reports it deactivated\)/);
    expect(confirmed.code).toBe(0);
    expect(await show(home)).toMatchObject({ storeStatus: 'deactivated', caProblem: { type: 'urn:ietf:params:acme:error:unauthorized' } });
  });

  it('off a terminal without --yes, refuses (exit 2) and changes nothing', async () => {
    const home = newHome();
    expect((await register(home, 'ops@example.com')).code).toBe(0);
    const revisions = await storeRevisions(join(home, 'acmectl.db'));
    const result = await cli(home, ['account', 'deactivate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot be undone, and there is no terminal to ask for confirmation on\nhint: add --yes/);
    expect(await storeRevisions(join(home, 'acmectl.db'))).toEqual(revisions);
    expect(await show(home)).toMatchObject({ status: 'valid', storeStatus: 'valid' });
  });

  it('with --yes deactivates at the CA; issue and renew then say so and how to register a new account', async () => {
    const home = newHome();
    expect((await register(home, 'ops@example.com')).code).toBe(0);
    expect((await issue(home, 'deactivate.example.test', ['--email', 'ops@example.com'])).code).toBe(0);
    const [account] = await storedAccounts(home);

    const result = await cli(home, ['account', 'deactivate', '--yes']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`account ${account!.url} deactivated at ${pebble.directoryUrl} (the CA reports it deactivated)`);

    // The CA refuses the account from now on, and says why.
    const shown = await show(home);
    expect(shown).toMatchObject({ status: null, storeStatus: 'deactivated', caProblem: { type: 'urn:ietf:params:acme:error:unauthorized' } });
    expect(shown.caProblem?.detail).toMatch(/deactivated/);
    await expect(askCaWith(account!.keyPem, account!.url)).rejects.toThrow(/unauthorized: .*deactivated/);
    expect((await storedAccounts(home))[0]).toMatchObject({ url: account!.url, status: 'deactivated' });

    const issued = await issue(home, 'other.example.test', ['--email', 'ops@example.com']);
    expect(issued.code).toBe(2);
    expect(issued.stderr).toMatch(/error: the ACME account \S+ \(ops@example\.com\) at \S+ was deactivated on \d{4}-\d\d-\d\d; it cannot be used any more/);
    expect(issued.stderr).toContain(`hint: register a new account: acmectl account register --server ${pebble.directoryUrl} --email ops@example.com --agree-tos`);

    const renewal = await renew(home, 'deactivate.example.test');
    expect(renewal.code).toBe(1);
    expect(renewal.stderr).toMatch(/error: deactivate\.example\.test: the ACME account \S+ .* was deactivated/);

    // What the hint says works: a new account replaces it, and the certificate renews with it.
    const registered = await register(home, 'ops@example.com');
    expect(registered.code).toBe(0);
    expect(registered.stdout).toContain(`(replacing the deactivated account ${account!.url})`);
    expect((await renew(home, 'deactivate.example.test')).code).toBe(0);
  });
});
