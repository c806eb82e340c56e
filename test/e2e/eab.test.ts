import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEBBLE_EAB_KEYS, startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

let pebble: PebbleHandle;
beforeAll(async () => {
  pebble = await startPebble({ eab: true });
});
afterAll(async () => pebble?.stop());

const newHome = () => tempDir('eab');
const register = (home: string, extra: string[]) => runCli(['account', 'register', ...pebbleArgs(pebble), '--email', 'ops@example.com', ...extra], { home });
const accounts = async (home: string) => (JSON.parse((await runCli(['account', 'list', '--json'], { home })).stdout) as { accounts: { eabKid: string | null }[] }).accounts;

describe('external account binding against a Pebble that requires it', () => {
  it('registers with the CA-given key id and HMAC key, never printing the key, and then issues', async () => {
    const home = newHome();
    const result = await register(home, ['--agree-tos', '--eab-kid', 'kid-1', '--eab-hmac-key', PEBBLE_EAB_KEYS['kid-1']]);
    expect(result.stdout).toMatch(/^account https:\/\/localhost:\d+\/my-account\/\S+ registered at /);
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(PEBBLE_EAB_KEYS['kid-1']);
    expect(await accounts(home)).toEqual([expect.objectContaining({ eabKid: 'kid-1', email: 'ops@example.com' })]);

    const again = await register(home, ['--agree-tos', '--eab-kid', 'kid-1', '--eab-hmac-key', PEBBLE_EAB_KEYS['kid-1']]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/exists already/);
    expect(await accounts(home)).toHaveLength(1);

    // The bound account is used by issue without any EAB flags.
    const issued = await runCli(['issue', 'eab.example.test', ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com'], { home });
    expect(issued.stderr).toContain('eab.example.test validated');
    expect(issued.code).toBe(0);
  });

  it("issue takes the EAB flags itself (Infisical's way: EAB required, HTTP-01, every name in the CSR's SANs)", async () => {
    const home = newHome();
    const args = ['issue', 'eab-a.example.test', 'eab-b.example.test', ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1'];
    const result = await runCli([...args, '--email', 'ops@example.com', '--agree-tos', '--eab-kid', 'kid-2', '--eab-hmac-key', PEBBLE_EAB_KEYS['kid-2']], { home });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(PEBBLE_EAB_KEYS['kid-2']);
    expect(await accounts(home)).toEqual([expect.objectContaining({ eabKid: 'kid-2' })]);
    const shown = JSON.parse((await runCli(['show', 'eab-a.example.test', '--json'], { home })).stdout) as { domains: string[] };
    expect(shown.domains).toEqual(['eab-a.example.test', 'eab-b.example.test']);
  });

  it('refuses a wrong HMAC key clearly (exit 1), without printing it and without storing an account', async () => {
    const home = newHome();
    const wrong = PEBBLE_EAB_KEYS['kid-2']; // a well-formed key, but not kid-1's
    const result = await register(home, ['--agree-tos', '--eab-kid', 'kid-1', '--eab-hmac-key', wrong]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: the CA refused registering the account: \w+: .+/);
    expect(result.stdout + result.stderr).not.toContain(wrong);
    expect(await accounts(home)).toEqual([]);
  });

  it('says the CA requires EAB when none is given (exit 2, nothing stored)', async () => {
    const home = newHome();
    const result = await register(home, ['--agree-tos']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/requires external account binding/);
    expect(result.stderr).toMatch(/--eab-kid KID --eab-hmac-key KEY/);
    expect(await accounts(home)).toEqual([]);
  });

  it('refuses a malformed HMAC key before contacting the CA (exit 2), without echoing it', async () => {
    const home = newHome();
    const result = await register(home, ['--agree-tos', '--eab-kid', 'kid-1', '--eab-hmac-key', 'not a key!']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--eab-hmac-key is not base64url/);
    expect(result.stderr).not.toContain('not a key!');
  });
});
