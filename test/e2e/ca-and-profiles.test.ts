import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPebble } from '../../scripts/lib/pebble.js';
import type { PebbleHandle } from '../../scripts/lib/pebble.js';
import { pebbleArgs, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

// Debian stable's Pebble (2.4): a CA without profiles and without renewal information.
let pebble: PebbleHandle;
beforeAll(async () => {
  pebble = await startPebble();
});
afterAll(async () => pebble?.stop());

describe('acmectl ca', () => {
  it('shows what the CA offers, in JSON and as text', async () => {
    const home = tempDir('ca');
    const json = await runCli(['ca', ...pebbleArgs(pebble), '--json'], { home });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: true,
      server: pebble.directoryUrl,
      preset: null,
      termsOfService: expect.stringMatching(/^data:text\/plain|^https?:\/\//),
      website: null,
      caaIdentities: [],
      externalAccountRequired: false,
      renewalInfo: false,
      profiles: {},
      keyChange: true,
      revocation: true,
    });
    const text = await runCli(['ca', ...pebbleArgs(pebble)], { home });
    expect(text.stdout).toMatch(/^renewal info \(ARI\): {2}no$/m);
    expect(text.stdout).toMatch(/^profiles: {12}none offered$/m);
  });
});

describe('issue --profile', () => {
  it('is refused before any order when the CA offers no profiles (exit 2)', async () => {
    const home = tempDir('ca');
    const args = ['issue', 'profile.example.test', ...pebbleArgs(pebble), '--http-port', String(pebble.httpPort), '--agree-tos', '--email', 'ops@example.com'];
    const result = await runCli([...args, '--profile', 'shortlived'], { home });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: the CA at ${pebble.directoryUrl} offers no certificate profiles, so --profile shortlived cannot be honoured`);
    // Nothing was ordered, not even an account registered.
    expect(JSON.parse((await runCli(['account', 'list', '--json'], { home })).stdout)).toEqual({ ok: true, accounts: [] });

    const malformed = await runCli([...args, '--profile', 'short lived'], { home });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/--profile "short lived" is not a profile name/);
  });
});
