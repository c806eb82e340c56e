import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEBBLE_EAB_KEYS, startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';
import { startEabStandin } from '../support/zerossl-eab-standin.js';
import type { EabStandin } from '../support/zerossl-eab-standin.js';

// `--server zerossl --email X` gets its EAB credentials from ZeroSSL's endpoint. Here a Pebble that requires EAB
// plays the CA and a stand-in plays the endpoint (ACMECTL_EAB_ENDPOINT points at it, as a user of another CA
// with such an endpoint would set it).
let pebble: PebbleHandle;
let endpoint: EabStandin;
beforeAll(async () => {
  [pebble, endpoint] = await Promise.all([
    startPebble({ eab: true }),
    startEabStandin({ kid: 'kid-1', hmacKey: PEBBLE_EAB_KEYS['kid-1'] }, (email) => email.startsWith('refused')),
  ]);
});
afterAll(async () => {
  await Promise.all([pebble?.stop(), endpoint?.stop()]);
});

const env = () => ({ ACMECTL_EAB_ENDPOINT: endpoint.url });
const accounts = async (home: string) => (JSON.parse((await runCli(['account', 'list', '--json'], { home })).stdout) as { accounts: { eabKid: string | null; email: string | null }[] }).accounts;

describe('EAB credentials from the CA\'s endpoint', () => {
  it('issue with only --email obtains them, registers the bound account and issues, never printing the key', async () => {
    const home = tempDir('eab-endpoint');
    const before = endpoint.requests.length;
    const args = ['issue', 'auto-eab.example.test', ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--http-address', '127.0.0.1', '--email', 'ops@example.com', '--agree-tos'];
    const result = await runCli(args, { home, env: env() });
    expect(result.stderr).not.toContain(PEBBLE_EAB_KEYS['kid-1']);
    expect(result.code, result.stderr).toBe(0);
    expect(endpoint.requests.slice(before)).toEqual([{ method: 'POST', contentType: 'application/x-www-form-urlencoded', form: { email: 'ops@example.com' } }]);
    expect(await accounts(home)).toEqual([expect.objectContaining({ eabKid: 'kid-1', email: 'ops@example.com' })]);
  });

  it('account register does the same', async () => {
    const home = tempDir('eab-endpoint');
    const result = await runCli(['account', 'register', ...pebbleArgs(pebble), '--email', 'ops@example.com', '--agree-tos'], { home, env: env() });
    expect(result.code, result.stderr).toBe(0);
    expect(await accounts(home)).toEqual([expect.objectContaining({ eabKid: 'kid-1' })]);
  });

  it('says what the endpoint refused (exit 1) and stores nothing', async () => {
    const home = tempDir('eab-endpoint');
    const result = await runCli(['account', 'register', ...pebbleArgs(pebble), '--email', 'refused@example.com', '--agree-tos'], { home, env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/gave no EAB credentials for refused@example\.com: invalid_email: the email address is not valid/);
    expect(result.stderr).toMatch(/hint: .*--eab-kid and --eab-hmac-key/);
    expect(await accounts(home)).toEqual([]);
  });

  it('needs an email to ask for them (exit 2), and names the flags', async () => {
    const home = tempDir('eab-endpoint');
    const result = await runCli(['account', 'register', ...pebbleArgs(pebble), '--agree-tos'], { home, env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/requires external account binding, and 127\.0\.0\.1:\d+ hands out credentials for an email address/);
    expect(result.stderr).toMatch(/hint: add --email you@example\.com, or pass --eab-kid KID --eab-hmac-key KEY/);
  });

  it('refuses a plain-http endpoint that is not on this machine before anything is sent (exit 2)', async () => {
    const home = tempDir('eab-endpoint');
    const result = await runCli(['account', 'register', ...pebbleArgs(pebble), '--email', 'ops@example.com', '--agree-tos'], { home, env: { ACMECTL_EAB_ENDPOINT: 'http://eab.example.com/x' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/must be an https URL/);
  });
});
